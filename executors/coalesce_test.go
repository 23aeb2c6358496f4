package executors_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/local"
)

// batching runs batches on the local executor and remembers their sizes.
type batching struct {
	*local.Executor
	mu      sync.Mutex
	batches []int
}

func (b *batching) StartBatch(ctx context.Context, ts []*executors.Task) ([]*executors.Handle, error) {
	b.mu.Lock()
	b.batches = append(b.batches, len(ts))
	b.mu.Unlock()
	hs := make([]*executors.Handle, len(ts))
	for i, t := range ts {
		h, err := b.Start(ctx, t)
		if err != nil {
			return nil, err
		}
		hs[i] = h
	}
	return hs, nil
}

func startAll(t *testing.T, ex executors.Executor, n int, offset int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			task := &executors.Task{ID: fmt.Sprint("t", offset+i), Argv: []string{"/bin/true"}, Dir: t.TempDir(), Env: map[string]string{}}
			h, err := ex.Start(context.Background(), task)
			if err != nil {
				t.Error(err)
				return
			}
			if r, err := ex.Wait(context.Background(), h); err != nil || !r.Success() {
				t.Errorf("task %d: %v %+v", i, err, r)
			}
		}(i)
	}
	wg.Wait()
}

func TestCoalesceGathersStarts(t *testing.T) {
	lx, err := local.New(local.Options{Logger: zerolog.Nop(), MaxParallel: 64, Cores: 64})
	if err != nil {
		t.Fatal(err)
	}
	b := &batching{Executor: lx}
	ex := executors.Coalesce(b, 50*time.Millisecond, time.Second, 30)
	startAll(t, ex, 20, 0)
	startAll(t, ex, 45, 100) // over the cap of 30: two batches
	want := []int{20, 30, 15}
	if fmt.Sprint(b.batches) != fmt.Sprint(want) {
		t.Errorf("batches %v, want %v", b.batches, want)
	}
}
