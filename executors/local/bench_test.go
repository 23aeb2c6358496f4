package local

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
)

// The two benchmarks below do the same work, 1,000 runs of /bin/echo with
// two at a time, through the executor and through a plain exec loop; their
// ratio is the executor's overhead.

const benchTasks = 1000

func BenchmarkStartWait(b *testing.B) {
	benchmarkStartWait(b, Options{MaxParallel: 2, Logger: zerolog.Nop()})
}

// BenchmarkStartWaitSharedPIDNamespace: the same, with tasks as flow's
// direct children; the difference is the cost of the PID namespace.
func BenchmarkStartWaitSharedPIDNamespace(b *testing.B) {
	benchmarkStartWait(b, Options{MaxParallel: 2, SharedPIDNamespace: true, Logger: zerolog.Nop()})
}

func benchmarkStartWait(b *testing.B, opts Options) {
	ex, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	env := map[string]string{"PATH": "/usr/bin:/bin"}
	ctx := context.Background()
	for b.Loop() {
		var next atomic.Int64
		var wg sync.WaitGroup
		// More submitters than slots, as the engine would have: admission,
		// not the caller, sets the pace.
		for range 8 {
			wg.Go(func() {
				for i := next.Add(1); i <= benchTasks; i = next.Add(1) {
					tk := &executors.Task{
						ID:   fmt.Sprint(i),
						Argv: []string{"/bin/echo", "hello"},
						Env:  env,
						Dir:  dir,
					}
					h, err := ex.Start(ctx, tk)
					if err != nil {
						b.Error(err)
						return
					}
					if res, err := ex.Wait(ctx, h); err != nil || res.ExitCode != 0 {
						b.Error(res, err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}

func BenchmarkPlainExecLoop(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for i := next.Add(1); i <= benchTasks; i = next.Add(1) {
					cmd := exec.Command("/bin/echo", "hello")
					cmd.Dir = dir
					cmd.Env = []string{"PATH=/usr/bin:/bin"}
					if err := cmd.Run(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}
