package provenance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// crashHelperEnv, when set to a database path, turns this test binary into
// the writer that TestKillDuringWritesLosesNothingCommitted kills.
const crashHelperEnv = "FLOW_PROVENANCE_CRASH_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashHelperEnv); path != "" {
		crashWriter(path)
		return
	}
	if path := os.Getenv(cacheCrashHelperEnv); path != "" {
		cacheCrashWriter(path)
		return
	}
	os.Exit(m.Run())
}

// crashWriter records attempts from 8 goroutines for ever, printing the
// key of each one once PutAttempt has returned (it is committed). Big
// command lines make the file grow, so kills also land during remaps.
func crashWriter(path string) {
	db, err := Open(path, Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	runID := NewRunID()
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				a := scatterAttempt(runID, g*1_000_000+i)
				a.CommandLine = append(a.CommandLine, strings.Repeat(fmt.Sprintf("%d-%d ", g, i), 200))
				if err := db.PutAttempt(ctx, a); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "%s %s\n", a.RunID, a.Job)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestKillDuringWritesLosesNothingCommitted kills a writer process with
// SIGKILL at random moments, five times over the same file, and checks
// after each kill that the file opens, passes bbolt's consistency check,
// holds every attempt the writer saw committed, and that every attempt in
// it decodes whole.
func TestKillDuringWritesLosesNothingCommitted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	afterKills(t, crashHelperEnv, func(db *DB, round int, committed map[string]bool) {
		checkAllAttemptsDecode(t, db, round)
		for key := range committed {
			runID, job, _ := strings.Cut(key, " ")
			if !hasAttempt(t, db, runID, job) {
				t.Fatalf("round %d: attempt %s of run %s was committed before the kill but is gone", round, job, runID)
			}
		}
		t.Logf("round %d: killed after %d committed attempts; all there", round, len(committed))
	})
}

// afterKills runs and kills the writer that the environment variable
// helper names five times over one database file, and after each kill
// checks that the file opens and passes bbolt's consistency check, then
// hands it to check with what the writer reported committed.
func afterKills(t *testing.T, helper string, check func(db *DB, round int, committed map[string]bool)) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flow.db")
	for round := range 5 {
		committed := runAndKill(t, helper, path, 50+rand.IntN(400))
		db, err := Open(path, Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("round %d: the database does not open after kill -9: %v", round, err)
		}
		if err := db.Check(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		check(db, round, committed)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runAndKill starts the writer that the environment variable helper
// names (set to path), lets it commit at least n records, waits a random
// moment longer, kills it, and returns what it reported committed.
func runAndKill(t *testing.T, helper, path string, n int) map[string]bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helper+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	committed := map[string]bool{}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	for len(committed) < n && lines.Scan() {
		committed[lines.Text()] = true
	}
	time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // lines written before the kill were committed too
		committed[lines.Text()] = true
	}
	err = cmd.Wait()
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !status.Signaled() {
		t.Fatalf("the writer ended on its own (%v) instead of being killed", err)
	}
	return committed
}

func hasAttempt(t *testing.T, db *DB, runID, job string) bool {
	var found bool
	err := db.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketAttempts).Get(attemptKey(runID, job, 1)) != nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func checkAllAttemptsDecode(t *testing.T, db *DB, round int) {
	t.Helper()
	err := db.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAttempts).ForEach(func(k, v []byte) error {
			var a Attempt
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("attempt %q does not decode: %w", k, err)
			}
			if !strings.HasPrefix(a.CommandLine[len(a.CommandLine)-1], fmt.Sprintf("%d-", a.ScatterIndex/1_000_000)) {
				return fmt.Errorf("attempt %q holds another attempt's command line", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
}
