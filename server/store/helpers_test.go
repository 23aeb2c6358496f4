package store

import (
	"errors"
	"os"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashWriterEnv); dir != "" {
		crashWriter(dir, os.Getenv(crashModeEnv))
		return
	}
	os.Exit(m.Run())
}

// openStore opens a store in dir and closes it when the test ends, unless
// the test closed it itself.
func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newRun(t *testing.T, s *Store, team string, state RunState) *Run {
	t.Helper()
	r := &Run{Team: team, Owner: "tok", State: state, Workflow: "main.cwl",
		Inputs: map[string]any{"n": 3, "x": 1.5}}
	if err := s.CreateRun(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got %v, want %v", what, err, target)
	}
}

// check runs bbolt's consistency check over the whole file.
func (s *Store) check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}
