package store

import "testing"

// The latest event ID is the team's own: it follows its events and no
// other team's.
func TestLastEventID(t *testing.T) {
	s := openStore(t, t.TempDir())
	if id, err := s.LastEventID("a"); err != nil || id != 0 {
		t.Fatalf("before any event: %d %v", id, err)
	}
	r := newRun(t, s, "a", StateQueued)
	for range 3 {
		if err := s.AppendEvent(&Event{Team: "a", RunID: r.ID, Kind: EventLog, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	b := newRun(t, s, "b", StateQueued)
	s.AppendEvent(&Event{Team: "b", RunID: b.ID, Kind: EventLog, Data: []byte(`{}`)})
	evs, _ := s.Events("a", "", 0, 0)
	if id, err := s.LastEventID("a"); err != nil || len(evs) == 0 || id != evs[len(evs)-1].ID {
		t.Errorf("after %d events: %d %v", len(evs), id, err)
	}
}
