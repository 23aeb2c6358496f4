package store

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

func appendLog(t *testing.T, s *Store, team, runID, line string) Event {
	t.Helper()
	data, _ := json.Marshal(map[string]string{"line": line})
	e := Event{Team: team, RunID: runID, Kind: EventLog, Data: data}
	if err := s.AppendEvent(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEventsIncreaseAndResumeAfterAnID: IDs increase across runs, a
// follower asking for what came after ID n gets exactly the later events,
// and everything survives closing and reopening the store.
func TestEventsIncreaseAndResumeAfterAnID(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := newRun(t, s, "a", StateRunning), newRun(t, s, "a", StateRunning)
	var appended []Event
	for i := range 10 {
		run := []*Run{r1, r2}[i%2]
		e := appendLog(t, s, "a", run.ID, fmt.Sprint("line ", i))
		if len(appended) > 0 && e.ID <= appended[len(appended)-1].ID {
			t.Fatalf("event ID %d after %d", e.ID, appended[len(appended)-1].ID)
		}
		appended = append(appended, e)
	}
	check := func(s *Store) {
		t.Helper()
		mid := appended[4].ID
		got, err := s.Events("a", "", mid, 0)
		if err != nil || len(got) != 5 || got[0].ID != appended[5].ID {
			t.Fatalf("team events after %d: %v, %v", mid, got, err)
		}
		got, err = s.Events("a", r1.ID, mid, 0)
		if err != nil || len(got) != 2 || got[0].ID != appended[6].ID || got[1].ID != appended[8].ID {
			t.Fatalf("run 1's events after %d: %v, %v", mid, got, err)
		}
		got, _ = s.Events("a", r2.ID, 0, 2)
		if len(got) != 2 || got[0].ID != appended[1].ID || string(got[0].Data) != `{"line":"line 1"}` || got[0].Kind != EventLog {
			t.Fatalf("run 2's first 2 events: %v", got)
		}
		if got, _ := s.Events("a", "", appended[9].ID, 0); len(got) != 0 {
			t.Fatalf("events after the last: %v", got)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	check(s)
	e := appendLog(t, s, "a", r1.ID, "after the restart")
	if e.ID <= appended[9].ID {
		t.Fatalf("after reopening, event ID %d does not follow %d", e.ID, appended[9].ID)
	}
}

func TestSubscribeIsSignalledOnAppend(t *testing.T) {
	s := openStore(t, t.TempDir())
	r := newRun(t, s, "a", StateRunning)
	rb := newRun(t, s, "b", StateRunning)
	ch, cancel := s.Subscribe("a")
	defer cancel()
	appendLog(t, s, "b", rb.ID, "not for a")
	select {
	case <-ch:
		t.Fatal("team a was woken by team b's event")
	default:
	}
	for range 3 { // coalesced: three appends, one wake-up waiting
		appendLog(t, s, "a", r.ID, "x")
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no signal after an append")
	}
	select {
	case <-ch:
		t.Fatal("signals should coalesce into one")
	default:
	}
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("the channel is still open after cancel")
	}
	cancel() // a second cancel is harmless
}

// TestFollowerMissesNothing: a follower that reads Events after each
// wake-up sees every event exactly once while writers append at once.
func TestFollowerMissesNothing(t *testing.T) {
	s := openStore(t, t.TempDir())
	r := newRun(t, s, "a", StateRunning)
	ch, cancel := s.Subscribe("a")
	defer cancel()
	const writers, each = 4, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				data, _ := json.Marshal(fmt.Sprint(w, "-", i))
				if err := s.AppendEvent(&Event{Team: "a", RunID: r.ID, Kind: EventLog, Data: data}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	seen, last := map[uint64]bool{}, uint64(0)
	deadline := time.After(20 * time.Second)
	for len(seen) < writers*each {
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("saw %d of %d events", len(seen), writers*each)
		}
		evs, err := s.Events("a", r.ID, last, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if seen[e.ID] || e.ID <= last {
				t.Fatalf("event %d twice or out of order", e.ID)
			}
			seen[e.ID], last = true, e.ID
		}
	}
	wg.Wait()
}

func TestCloseEndsSubscriptions(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel := s.Subscribe("a")
	_ = s.Close()
	if _, ok := <-ch; ok {
		t.Fatal("the channel is still open after Close")
	}
	cancel()
	ch, _ = s.Subscribe("a")
	if _, ok := <-ch; ok {
		t.Fatal("subscribing to a closed store gave an open channel")
	}
}
