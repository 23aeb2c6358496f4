package provenance

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// While one Shared store records a long run, others can still open the
// database: it is held for each group of calls, not for the whole run.
func TestSharedLetsOthersIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	s, err := OpenShared(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stop, recording := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a run recording steps as fast as it can
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.PutAttempt(ctx, &Attempt{RunID: "busy", Job: fmt.Sprintf("main/s/%d", i), Attempt: 1, Started: time.Now()}); err != nil {
				t.Error(err)
				return
			}
			if i == 10 {
				close(recording)
			}
		}
	}()
	<-recording
	for i := 0; i < 10; i++ {
		db, err := Open(path, Options{Timeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatalf("another opener waited out its timeout while a run was recording: %v", err)
		}
		if _, err := db.Attempts(ctx, "busy"); err != nil {
			t.Error(err)
		}
		db.release()
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
}

// A run that has the database to itself keeps it open however long it
// records: opening and closing it costs more than a short step does.
func TestSharedKeepsTheFileWhileAlone(t *testing.T) {
	s, err := OpenShared(filepath.Join(t.TempDir(), "flow.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for start, i := time.Now(), 0; time.Since(start) < 10*HoldAtMost; i++ {
		if err := s.PutAttempt(ctx, &Attempt{RunID: "alone", Job: fmt.Sprintf("main/s/%d", i), Attempt: 1, Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.opens.Load(); n != 1 {
		t.Errorf("a run alone opened the database %d times while it recorded without a pause; want once", n)
	}
}

// Two stores on one file (two flow processes) write at the same time;
// every record lands.
func TestSharedConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		s, err := OpenShared(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					a := &Attempt{RunID: fmt.Sprint("run", w), Job: fmt.Sprintf("main/s/%d", g*50+i), Attempt: 1, Started: time.Now()}
					if err := s.PutAttempt(ctx, a); err != nil {
						t.Error(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	s, _ := OpenShared(path, Options{})
	for w := 0; w < 2; w++ {
		as, err := s.Attempts(ctx, fmt.Sprint("run", w))
		if err != nil || len(as) != 200 {
			t.Errorf("run%d: %d attempts recorded (err %v), want 200", w, len(as), err)
		}
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}
