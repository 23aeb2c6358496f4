package slurm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/executortest"
	"github.com/flow-cwl/flow/internal/testcluster"
)

// countingRunner passes scripts to a real Runner and counts them by the
// command their first line names ("# flow: squeue" counts as "squeue"),
// with the time of each call.
type countingRunner struct {
	Runner
	mu    sync.Mutex
	calls map[string][]time.Time
}

func (r *countingRunner) Run(ctx context.Context, script string) ([]byte, error) {
	first, _, _ := strings.Cut(script, "\n")
	kind := strings.TrimPrefix(first, "# flow: ")
	r.mu.Lock()
	if r.calls == nil {
		r.calls = map[string][]time.Time{}
	}
	r.calls[kind] = append(r.calls[kind], time.Now())
	r.mu.Unlock()
	return r.Runner.Run(ctx, script)
}

func (r *countingRunner) count(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls[kind])
}

func (r *countingRunner) times(kind string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.calls[kind]...)
}

const testPoll = 200 * time.Millisecond

// newClusterExecutor makes an executor on the test cluster (skipping
// when it is not up) and its counting runner.
func newClusterExecutor(t testing.TB) (*Executor, *countingRunner) {
	c := testcluster.Require(t)
	r := &countingRunner{Runner: LocalRunner{Env: c.SlurmEnv()}}
	ex, err := New(Options{Runner: r, PollInterval: testPoll, NamePrefix: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return ex, r
}

func TestConformance(t *testing.T) {
	executortest.Run(t, func(t *testing.T) executors.Executor {
		ex, _ := newClusterExecutor(t)
		return ex
	})
}

// TestBatchIsOneArray: 200 tasks with equal resources are one sbatch, and
// the poller asks squeue at most once per interval for all of them.
func TestBatchIsOneArray(t *testing.T) {
	ex, r := newClusterExecutor(t)
	dir := t.TempDir()
	const n = 200
	var ts []*executors.Task
	for i := range n {
		ts = append(ts, &executors.Task{ID: fmt.Sprintf("scatter/%d", i), Argv: []string{"sh", "-c", fmt.Sprintf("echo %d; exit %d", i, i%3)},
			Env: map[string]string{"PATH": "/usr/bin:/bin"}, Dir: dir, Stdout: fmt.Sprintf("out-%d", i)})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	began := time.Now()
	hs, err := ex.StartBatch(ctx, ts)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		if want := fmt.Sprintf("_%d", i); !strings.HasSuffix(h.JobID, want) || h.TaskID != ts[i].ID {
			t.Fatalf("handle %d is %+v, want job id ..%s for task %q", i, h, want, ts[i].ID)
		}
	}
	for i, h := range hs {
		res, err := ex.Wait(ctx, h)
		if err != nil || res.ExitCode != i%3 {
			t.Errorf("task %d: %+v, %v; want exit %d", i, res, err, i%3)
		}
	}
	took := time.Since(began)
	if got := r.count("sbatch"); got != 1 {
		t.Errorf("200 tasks took %d sbatch calls, want 1", got)
	}
	// One squeue per poll for all 200 jobs: over the run, about as many
	// calls as intervals elapsed (10% for a jittery clock). Polling per job
	// would make hundreds of times more; single gaps are not checked, as a
	// loaded machine delays one tick and hurries the next.
	polls := r.times("squeue")
	if limit := int(float64(took)/float64(testPoll)*1.1) + 2; len(polls) > limit {
		t.Errorf("%d squeue calls in %v; at one per %v poll there can be about %d", len(polls), took, testPoll, limit)
	}
	t.Logf("200 tasks in %v: %d sbatch, %d squeue, %d exit-file reads, %d sacct", took,
		r.count("sbatch"), len(polls), r.count("read exit files"), r.count("sacct"))
	if got, _ := os.ReadFile(filepath.Join(dir, "out-199")); string(got) != "199\n" {
		t.Errorf("task 199 wrote %q", got)
	}
}

// TestBatchGroupsByResources: tasks asking for different memory go into
// different arrays, and MaxArraySize splits a group.
func TestBatchGroupsByResources(t *testing.T) {
	c := testcluster.Require(t)
	r := &countingRunner{Runner: LocalRunner{Env: c.SlurmEnv()}}
	ex, err := New(Options{Runner: r, PollInterval: testPoll, MaxArraySize: 3})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var ts []*executors.Task
	for i := range 6 {
		ts = append(ts, &executors.Task{ID: fmt.Sprint(i), Argv: []string{"true"}, Dir: dir,
			Env: map[string]string{"PATH": "/usr/bin:/bin"}, Resources: executors.Resources{RAMMiB: int64(50 + 50*(i%2))}})
	}
	hs, err := ex.StartBatch(t.Context(), ts)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		if res, err := ex.Wait(t.Context(), h); err != nil || !res.Success() {
			t.Errorf("task %d: %+v, %v", i, res, err)
		}
	}
	// Three tasks at 50M, three at 100M: two arrays of three.
	if got := r.count("sbatch"); got != 2 {
		t.Errorf("6 tasks in 2 resource groups took %d sbatch calls, want 2", got)
	}
}

// TestHostileStringsOnCluster: the same hostile strings, through sbatch
// and a real job.
func TestHostileStringsOnCluster(t *testing.T) {
	ex, _ := newClusterExecutor(t)
	root := t.TempDir()
	marker := filepath.Join(root, "pwned")
	dir := filepath.Join(root, "work $(touch pwned) 'x' \"y\" `touch pwned`")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	words := hostile(marker)
	tk := &executors.Task{ID: "hostile $(touch " + marker + ")\n", Argv: append([]string{"printf", `%s\0`}, words...),
		Env: map[string]string{"PATH": "/usr/bin:/bin", "X": "$(touch " + marker + ")\n'"}, Dir: dir, Stdout: "out"}
	h, err := ex.Start(t.Context(), tk)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := ex.Wait(t.Context(), h); err != nil || !res.Success() {
		t.Fatalf("%+v, %v", res, err)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "out"))
	if got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"); !slices.Equal(got, words) {
		t.Errorf("the task received\n  %q\nwant\n  %q", got, words)
	}
	for _, m := range []string{marker, filepath.Join(dir, "pwned"), filepath.Join(root, ".flow-slurm", "pwned")} {
		if _, err := os.Stat(m); err == nil {
			t.Errorf("a hostile string ran as code: %s exists", m)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the task's directory holds %d entries, want only its stdout", len(entries))
	}
}

// TestRecoverAfterRestart: a new executor re-attaches to a running job
// from its handle, and Wait gets its exit status.
func TestRecoverAfterRestart(t *testing.T) {
	first, _ := newClusterExecutor(t)
	tk := &executors.Task{ID: "sleeper", Argv: []string{"sh", "-c", "sleep 3; exit 5"}, Env: map[string]string{"PATH": "/usr/bin:/bin"}, Dir: t.TempDir()}
	h, err := first.Start(t.Context(), tk)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	// flow restarts: the first executor is dropped, a new one reads the handle.
	second, r := newClusterExecutor(t)
	var back executors.Handle
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Wait(t.Context(), &back); !errors.Is(err, executors.ErrUnknownTask) {
		t.Errorf("Wait before Recover: %v, want ErrUnknownTask", err)
	}
	if err := second.Recover(t.Context(), &back); err != nil {
		t.Fatal(err)
	}
	if state, _, err := second.Status(&back); err != nil || (state != statePending && state != stateRunning) {
		t.Errorf("Status after Recover = %q, %v; want PENDING or RUNNING", state, err)
	}
	res, err := second.Wait(t.Context(), &back)
	if err != nil || res.ExitCode != 5 {
		t.Errorf("Wait after Recover: %+v, %v; want exit 5", res, err)
	}
	if r.count("sbatch") != 0 {
		t.Errorf("Recover submitted the job again")
	}

	// A job Slurm has forgotten, with no exit file, is lost.
	lost := back
	var st jobState
	json.Unmarshal(lost.State, &st)
	st.JobID, st.ExitFile = "999999", filepath.Join(t.TempDir(), "none.exit")
	lost.JobID, lost.State = st.JobID, mustJSON(t, st)
	if err := second.Recover(t.Context(), &lost); !errors.Is(err, executors.ErrLost) {
		t.Errorf("Recover of a forgotten job: %v, want ErrLost", err)
	}
	// A handle whose job id is not one flow writes is refused.
	bad := back
	bad.JobID = "1; touch /tmp/pwned"
	if err := second.Recover(t.Context(), &bad); err == nil || errors.Is(err, executors.ErrLost) {
		t.Errorf("Recover of a handle with job id %q: %v", bad.JobID, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCancelArrayTask: Cancel stops one task of an array with one
// scancel, and the others run on.
func TestCancelArrayTask(t *testing.T) {
	ex, r := newClusterExecutor(t)
	dir := t.TempDir()
	var ts []*executors.Task
	for i := range 2 {
		ts = append(ts, &executors.Task{ID: fmt.Sprint(i), Argv: []string{"sh", "-c", fmt.Sprintf("sleep %d", 1+29*i)},
			Env: map[string]string{"PATH": "/usr/bin:/bin"}, Dir: dir})
	}
	hs, err := ex.StartBatch(t.Context(), ts)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := ex.Cancel(t.Context(), hs[1]); err != nil {
		t.Fatal(err)
	}
	res, err := ex.Wait(t.Context(), hs[1])
	if err != nil || res.Success() || res.Signal != stateCancelled || res.Reason == "" {
		t.Errorf("the cancelled task: %+v, %v", res, err)
	}
	// The task sleeps 30 s: ending well before that shows the cancel
	// worked, however slowly the scheduler acts on a busy machine.
	if took := time.Since(began); took > 25*time.Second {
		t.Errorf("a cancelled task took %v to end", took)
	}
	if res, err := ex.Wait(t.Context(), hs[0]); err != nil || !res.Success() {
		t.Errorf("the other task: %+v, %v", res, err)
	}
	if got := r.count("scancel"); got != 1 {
		t.Errorf("%d scancel calls, want 1", got)
	}
}
