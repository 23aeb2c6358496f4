package slurm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/internal/testcluster"
)

var errDropped = errors.New("the connection dropped during the call")

// dropAfterSbatch runs every script, but reports the first submission as
// cut by a dropped connection after it ran: the case where sbatch
// submitted the jobs and its answer was lost. Its Retry repeats such calls,
// as internal/remote's does.
type dropAfterSbatch struct {
	Runner
	dropped atomic.Bool
}

func (r *dropAfterSbatch) Run(ctx context.Context, script string) ([]byte, error) {
	out, err := r.Runner.Run(ctx, script)
	if err == nil && strings.HasPrefix(script, "# flow: sbatch") && r.dropped.CompareAndSwap(false, true) {
		return nil, errDropped
	}
	return out, err
}

func (r *dropAfterSbatch) Retry(ctx context.Context, fn func() error) error {
	err := fn()
	if errors.Is(err, errDropped) {
		return fn()
	}
	return err
}

// A submission whose answer a dropped connection lost is asked again, and
// the cluster runs the job once: the repeated script prints the job id it
// kept instead of calling sbatch again.
func TestSubmissionRepeatedAfterADropSubmitsOnce(t *testing.T) {
	c := testcluster.Require(t)
	r := &dropAfterSbatch{Runner: LocalRunner{Env: c.SlurmEnv()}}
	ex, err := New(Options{Runner: r, PollInterval: testPoll, NamePrefix: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	h, err := ex.Start(ctx, &executors.Task{ID: "once", Argv: []string{"sh", "-c", "echo ran >> ran.txt"},
		Env: map[string]string{"PATH": "/usr/bin:/bin"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := ex.Wait(ctx, h); err != nil || !res.Success() {
		t.Fatalf("Wait: %+v, %v", res, err)
	}
	if !r.dropped.Load() {
		t.Fatal("the submission was never dropped; the test did not exercise the repeat")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "ran.txt")); string(got) != "ran\n" {
		t.Errorf("the job ran %d times, want once", strings.Count(string(got), "ran"))
	}
	var jobs []testcluster.Job
	for try := 0; try < 100 && len(jobs) < 2; try++ { // a second job, if any, ends soon too
		if jobs, err = c.EndedJobs(filepath.Join(filepath.Dir(dir), ".flow-slurm")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := testcluster.Submissions(jobs); n != 1 {
		t.Errorf("slurmctld saw %d submissions, want 1", n)
	}
}
