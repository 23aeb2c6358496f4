package store

import (
	"encoding/binary"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A team's event IDs follow one another whatever other teams do, so they
// say nothing of other teams' activity; replay after an ID still works
// for the team and for a run.
func TestEventIDsAreCountedPerTeam(t *testing.T) {
	s := openStore(t, t.TempDir())
	a, b := newRun(t, s, "a", StateRunning), newRun(t, s, "b", StateRunning)
	for i := range 10 {
		for range i % 3 { // the other team is busy in between
			if err := s.AppendEvent(&Event{Team: "b", RunID: b.ID, Kind: EventLog}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AppendEvent(&Event{Team: "a", RunID: a.ID, Kind: EventLog}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events("a", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.ID != uint64(i+1) {
			t.Fatalf("team a's event %d has ID %d: IDs %v", i, e.ID, eventIDs(evs))
		}
	}
	for _, run := range []string{"", a.ID} {
		rest, err := s.Events("a", run, 4, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rest) != 6 || rest[0].ID != 5 {
			t.Errorf("replay after 4 (run %q): %v", run, eventIDs(rest))
		}
	}
}

func eventIDs(evs []Event) []uint64 {
	var out []uint64
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// A database whose IDs came from one daemon-wide count (schema version
// 1) moves to per-team counts without giving a team an ID it has had.
func TestEventIDsOfAnOlderDatabaseGoOn(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	a := newRun(t, s, "a", StateRunning)
	for range 3 {
		if err := s.AppendEvent(&Event{Team: "a", RunID: a.ID, Kind: EventLog}); err != nil {
			t.Fatal(err)
		}
	}
	// Make it a version 1 database, whose daemon-wide count was at 40.
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketEventSeq); err != nil {
			return err
		}
		if err := tx.Bucket(bucketEvents).SetSequence(40); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, 1))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openStore(t, dir)
	if err := s.AppendEvent(&Event{Team: "a", RunID: a.ID, Kind: EventLog}); err != nil {
		t.Fatal(err)
	}
	newRun(t, s, "new", StateRunning)
	if err := s.AppendEvent(&Event{Team: "new", Kind: EventLog}); err != nil {
		t.Fatal(err)
	}
	evs, _ := s.Events("a", "", 3, 0)
	if len(evs) != 1 || evs[0].ID != 41 {
		t.Errorf("team a after the move: %v, want [41]", eventIDs(evs))
	}
	if evs, _ := s.Events("new", "", 0, 0); len(evs) != 1 || evs[0].ID != 1 {
		t.Errorf("a new team: %v, want [1]", eventIDs(evs))
	}
}
