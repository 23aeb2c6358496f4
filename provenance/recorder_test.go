package provenance

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Attempts put from many jobs at once are all in the database once Flush
// returns, written in few transactions; after Close, Put still writes.
func TestRecorderWritesEveryQueuedAttemptBeforeFlushReturns(t *testing.T) {
	ctx := context.Background()
	db, err := OpenShared(filepath.Join(t.TempDir(), "flow.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var failed []error
	r := NewRecorder(db, func(_ *Attempt, err error) { failed = append(failed, err) })
	const jobs = RecorderQueue + 500 // more than the queue holds: Put waits, nothing is dropped
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < jobs; i += 8 {
				r.Put(&Attempt{RunID: "run1", Job: fmt.Sprintf("main/echo/%d", i), Attempt: 1, State: StepSucceeded, Started: t0})
			}
		}()
	}
	wg.Wait()
	r.Flush()
	as, err := db.Attempts(ctx, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != jobs || len(failed) > 0 {
		t.Fatalf("after Flush the database holds %d attempts of %d (errors: %v)", len(as), jobs, failed)
	}
	r.Close()
	r.Put(&Attempt{RunID: "run1", Job: "main/late", Attempt: 1, State: StepFailed, Started: t0})
	if as, _ := db.Attempts(ctx, "run1"); len(as) != jobs+1 {
		t.Errorf("an attempt put after Close was not written: %d attempts", len(as))
	}
}
