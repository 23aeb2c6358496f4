package local

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/executortest"
	"github.com/flow-cwl/flow/internal/testenv"
)

func TestConformance(t *testing.T) {
	executortest.Run(t, func(t *testing.T) executors.Executor {
		return newTestExecutor(t, Options{})
	})
}

// newTestExecutor makes an executor that logs to the test and, unless
// opts say otherwise, kills stubborn tasks quickly.
func newTestExecutor(t testing.TB, opts Options) *Executor {
	t.Helper()
	if opts.KillGrace == 0 {
		opts.KillGrace = time.Second
	}
	opts.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	ex, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func shTask(t *testing.T, id, script string) *executors.Task {
	return &executors.Task{
		ID:   id,
		Argv: []string{"sh", "-c", script},
		Env:  map[string]string{"PATH": "/usr/bin:/bin"},
		Dir:  t.TempDir(),
	}
}

func mustStart(t *testing.T, ex *Executor, tk *executors.Task) *executors.Handle {
	t.Helper()
	h, err := ex.Start(context.Background(), tk)
	if err != nil {
		t.Fatalf("Start %s: %v", tk.ID, err)
	}
	return h
}

func mustWait(t *testing.T, ex *Executor, h *executors.Handle) executors.Result {
	t.Helper()
	if h == nil {
		t.Fatal("no handle to wait for: Start failed")
	}
	res, err := ex.Wait(context.Background(), h)
	if err != nil {
		t.Fatalf("Wait %s: %v", h.TaskID, err)
	}
	return res
}

// startsWithin reports whether Start of tk returns within d, and a channel
// that delivers its handle whenever it does.
func startsWithin(t *testing.T, ex *Executor, tk *executors.Task, d time.Duration) (bool, <-chan *executors.Handle) {
	ch := make(chan *executors.Handle, 1)
	go func() {
		h, err := ex.Start(context.Background(), tk)
		if err != nil {
			t.Errorf("Start %s: %v", tk.ID, err)
		}
		ch <- h
	}()
	select {
	case h := <-ch:
		ch <- h
		return true, ch
	case <-time.After(d):
		return false, ch
	}
}

func TestAdmissionWaitsForCores(t *testing.T) {
	ex := newTestExecutor(t, Options{Cores: 2})
	big := shTask(t, "big", "sleep 100")
	big.Resources.Cores = 2
	hBig := mustStart(t, ex, big)

	small := shTask(t, "small", "true")
	ok, ch := startsWithin(t, ex, small, 300*time.Millisecond)
	if ok {
		t.Error("a 1-core task started while a 2-core task filled a 2-core machine")
	}
	ex.Cancel(context.Background(), hBig)
	mustWait(t, ex, hBig)
	select {
	case h := <-ch:
		mustWait(t, ex, h)
	case <-time.After(5 * time.Second):
		t.Fatal("a queued task still waits after the task in its way ended")
	}
}

func TestAdmissionFirstComeFirstServed(t *testing.T) {
	ex := newTestExecutor(t, Options{Cores: 2})
	first := mustStart(t, ex, shTask(t, "first", "sleep 100"))
	big := shTask(t, "big", "true")
	big.Resources.Cores = 2
	bigStarted, bigCh := startsWithin(t, ex, big, 200*time.Millisecond)
	if bigStarted {
		t.Fatal("a 2-core task started beside a 1-core task on a 2-core machine")
	}
	// A small task arriving after the big one must not overtake it.
	lateStarted, lateCh := startsWithin(t, ex, shTask(t, "late", "true"), 300*time.Millisecond)
	if lateStarted {
		t.Error("a task that arrived later overtook a queued task")
	}
	ex.Cancel(context.Background(), first)
	mustWait(t, ex, first)
	mustWait(t, ex, <-bigCh)
	mustWait(t, ex, <-lateCh)
}

func TestMaxParallel(t *testing.T) {
	ex := newTestExecutor(t, Options{MaxParallel: 1, Cores: 64})
	h := mustStart(t, ex, shTask(t, "one", "sleep 100"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if h2, err := ex.Start(ctx, shTask(t, "two", "true")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second task with MaxParallel 1: %+v, %v; want it to wait until its ctx ends", h2, err)
	}
	ex.Cancel(context.Background(), h)
	mustWait(t, ex, h)
	// The abandoned wait must not have leaked a slot.
	mustWait(t, ex, mustStart(t, ex, shTask(t, "three", "true")))
}

func TestAdmissionCountsMemory(t *testing.T) {
	ex := newTestExecutor(t, Options{Cores: 8, RAMMiB: 1000})
	a := shTask(t, "a", "sleep 100")
	a.Resources.RAMMiB = 600
	ha := mustStart(t, ex, a)
	b := shTask(t, "b", "true")
	b.Resources.RAMMiB = 600
	ok, ch := startsWithin(t, ex, b, 300*time.Millisecond)
	if ok {
		t.Error("two 600 MiB tasks ran at once on a 1000 MiB machine")
	}
	ex.Cancel(context.Background(), ha)
	mustWait(t, ex, ha)
	mustWait(t, ex, <-ch)
}

func TestOversizedTaskRunsAloneWithWarning(t *testing.T) {
	var logs testenv.Buffer
	ex, err := New(Options{Cores: 2, KillGrace: time.Second, Logger: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	huge := shTask(t, "huge", "sleep 100")
	huge.Resources.Cores = 16
	ok, ch := startsWithin(t, ex, huge, 5*time.Second)
	if !ok {
		t.Fatal("a task asking for more than the machine has never started")
	}
	h := <-ch
	if !strings.Contains(logs.String(), "more than this machine has") {
		t.Errorf("no warning about the oversized task in the log: %s", logs.String())
	}
	ok, smallCh := startsWithin(t, ex, shTask(t, "small", "true"), 300*time.Millisecond)
	if ok {
		t.Error("a task started beside a task that asked for more than the whole machine")
	}
	ex.Cancel(context.Background(), h)
	mustWait(t, ex, h)
	mustWait(t, ex, <-smallCh)
}

func TestKillGraceEscalatesToSIGKILL(t *testing.T) {
	ex := newTestExecutor(t, Options{KillGrace: 300 * time.Millisecond})
	tk := shTask(t, "stubborn", `trap "" TERM; echo ready > ready; while :; do sleep 0.05; done`)
	tk.TimeLimit = 200 * time.Millisecond
	res := mustWait(t, ex, mustStart(t, ex, tk))
	if !res.TimedOut || res.Signal != "SIGKILL" {
		t.Errorf("a task ignoring SIGTERM: %+v, want TimedOut and SIGKILL", res)
	}
	if took := res.Finished.Sub(res.Started); took < 500*time.Millisecond {
		t.Errorf("the task was killed after %v, before time limit plus grace", took)
	}
}

func TestLeftoversAreKilledWhenTheLeaderExits(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	tk := shTask(t, "leaver", `(sleep 1; echo alive > survivor) & exit 0`)
	began := time.Now()
	res := mustWait(t, ex, mustStart(t, ex, tk))
	if !res.Success() {
		t.Fatalf("%+v", res)
	}
	time.Sleep(time.Until(began.Add(2500 * time.Millisecond)))
	if _, err := os.Stat(filepath.Join(tk.Dir, "survivor")); err == nil {
		t.Error("a background process outlived its task")
	}
}

func TestStderrTailWithoutFile(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	// 100 numbered lines of 100 bytes: the tail holds the last ones only,
	// starting at a line boundary.
	tk := shTask(t, "noisy", `i=0; while [ $i -lt 100 ]; do printf "line %03d %090d\n" $i 0 >&2; i=$((i+1)); done`)
	res := mustWait(t, ex, mustStart(t, ex, tk))
	tail := res.StderrTail
	if len(tail) > tailBytes || len(tail) < tailBytes-200 {
		t.Errorf("tail is %d bytes, want close to %d", len(tail), tailBytes)
	}
	if !strings.HasPrefix(tail, "line ") || !strings.HasSuffix(tail, "\n") || !strings.Contains(tail, "line 099 ") {
		t.Errorf("tail does not hold whole last lines: %.60q ... %.60q", tail, tail[max(0, len(tail)-60):])
	}
}

func TestStderrTailFromLargeFile(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	tk := shTask(t, "noisy", `i=0; while [ $i -lt 100 ]; do printf "line %03d %090d\n" $i 0 >&2; i=$((i+1)); done`)
	tk.Stderr = "err.log"
	res := mustWait(t, ex, mustStart(t, ex, tk))
	st, err := os.Stat(filepath.Join(tk.Dir, "err.log"))
	if err != nil || st.Size() != 100*100 {
		t.Fatalf("stderr file: %v, %v; want 10000 bytes", st, err)
	}
	if !strings.HasPrefix(res.StderrTail, "line ") || !strings.HasSuffix(res.StderrTail, "line 099 "+strings.Repeat("0", 90)+"\n") {
		t.Errorf("tail from the stderr file: %.60q", res.StderrTail)
	}
}

func TestStdoutAndStderrToTheSameFile(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	tk := shTask(t, "both", "echo one; echo two >&2; echo three")
	tk.Stdout, tk.Stderr = "log", "log"
	mustWait(t, ex, mustStart(t, ex, tk))
	b, _ := os.ReadFile(filepath.Join(tk.Dir, "log"))
	if string(b) != "one\ntwo\nthree\n" {
		t.Errorf("shared stdout/stderr file holds %q", b)
	}
}

func TestPathComesFromTheTask(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	bin := t.TempDir()
	script := "#!/bin/sh\necho from-task-path\n"
	if err := os.WriteFile(filepath.Join(bin, "flow-test-tool"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tk := shTask(t, "tool", "")
	tk.Argv = []string{"flow-test-tool"}
	tk.Env["PATH"] = "/nonexistent:" + bin
	tk.Stdout = "out"
	mustWait(t, ex, mustStart(t, ex, tk))
	if b, _ := os.ReadFile(filepath.Join(tk.Dir, "out")); string(b) != "from-task-path\n" {
		t.Errorf("tool printed %q", b)
	}

	// Without PATH in the task's environment, even sh is not found,
	// whatever flow's own PATH says.
	noPath := shTask(t, "nopath", "true")
	delete(noPath.Env, "PATH")
	if _, err := ex.Start(context.Background(), noPath); !errors.Is(err, executors.ErrNotFound) {
		t.Errorf("sh without PATH: err = %v, want ErrNotFound", err)
	}
}

// A program found once is looked up again when it has gone: a later task
// runs the one now on its PATH, not a stale path.
func TestProgramMovedBetweenTasks(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	first, second := t.TempDir(), t.TempDir()
	install := func(dir, says string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "flow-test-tool"), []byte("#!/bin/sh\necho "+says+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(id string) string {
		t.Helper()
		tk := shTask(t, id, "")
		tk.Argv = []string{"flow-test-tool"}
		tk.Env["PATH"] = first + ":" + second
		tk.Stdout = "out"
		mustWait(t, ex, mustStart(t, ex, tk))
		b, _ := os.ReadFile(filepath.Join(tk.Dir, "out"))
		return string(b)
	}
	install(second, "second")
	if got := run("one"); got != "second\n" {
		t.Fatalf("first task printed %q", got)
	}
	if err := os.Remove(filepath.Join(second, "flow-test-tool")); err != nil {
		t.Fatal(err)
	}
	install(first, "first")
	if got := run("two"); got != "first\n" {
		t.Errorf("after the program moved, a task printed %q; want the one now on PATH", got)
	}
}

func TestNotExecutable(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	tk := shTask(t, "noexec", "")
	if err := os.WriteFile(filepath.Join(tk.Dir, "data.txt"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	tk.Argv = []string{"./data.txt"}
	_, err := ex.Start(context.Background(), tk)
	if !errors.Is(err, executors.ErrNotFound) || !strings.Contains(err.Error(), "not an executable") {
		t.Errorf("running a data file: %v", err)
	}
}

func TestMissingWorkingDirectory(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	tk := shTask(t, "nodir", "true")
	tk.Dir = filepath.Join(tk.Dir, "missing")
	_, err := ex.Start(context.Background(), tk)
	if err == nil || errors.Is(err, executors.ErrNotFound) || !strings.Contains(err.Error(), "working directory") {
		t.Errorf("missing working directory: %v", err)
	}
	// The failed start must have given its resources and id back.
	ex2 := newTestExecutor(t, Options{MaxParallel: 1})
	ex2.Start(context.Background(), tk)
	tk.Dir = t.TempDir()
	mustWait(t, ex2, mustStart(t, ex2, tk))
}

func TestDuplicateTaskID(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	h := mustStart(t, ex, shTask(t, "same", "sleep 100"))
	if _, err := ex.Start(context.Background(), shTask(t, "same", "true")); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second task with the same id: %v", err)
	}
	ex.Cancel(context.Background(), h)
	mustWait(t, ex, h)
}

func TestResourceUsage(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	tk := shTask(t, "busy", `i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done`)
	res := mustWait(t, ex, mustStart(t, ex, tk))
	if res.UserCPU+res.SysCPU < 10*time.Millisecond || res.MaxRSSKiB < 100 {
		t.Errorf("a busy loop used %v user, %v sys, %d KiB; want real numbers", res.UserCPU, res.SysCPU, res.MaxRSSKiB)
	}
	if wall := res.Finished.Sub(res.Started); res.UserCPU > 2*wall {
		t.Errorf("single-threaded task used %v CPU in %v", res.UserCPU, wall)
	}
}

func TestRecover(t *testing.T) {
	first := newTestExecutor(t, Options{})
	tk := shTask(t, "long", "sleep 100")
	h := mustStart(t, first, tk)
	b, _ := json.Marshal(h)

	// A new executor, as after a restart.
	second := newTestExecutor(t, Options{PollInterval: 20 * time.Millisecond, MaxParallel: 1})
	var back executors.Handle
	json.Unmarshal(b, &back)
	if err := second.Recover(context.Background(), &back); err != nil {
		t.Fatalf("Recover of a running task: %v", err)
	}
	// The adopted task holds the only slot.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := second.Start(ctx, shTask(t, "other", "true")); err == nil {
		t.Error("a task started although a recovered task held the only slot")
	}

	if err := second.Cancel(context.Background(), &back); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := second.Wait(context.Background(), &back); done <- err }()
	// The first executor is still the parent and reaps the process; the
	// second sees it go.
	if res := mustWait(t, first, h); res.Signal != "SIGTERM" {
		t.Errorf("the recovered task was not stopped by Cancel: %+v", res)
	}
	select {
	case err := <-done:
		if !errors.Is(err, executors.ErrLost) {
			t.Errorf("Wait on a recovered task: %v, want ErrLost", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait on a recovered task did not notice it end")
	}
	// Now the process is gone: recovering it again says so.
	if err := newTestExecutor(t, Options{}).Recover(context.Background(), &back); !errors.Is(err, executors.ErrLost) {
		t.Errorf("Recover of an ended task: %v, want ErrLost", err)
	}
}

func TestRecoverRejectsAReusedPID(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	h := mustStart(t, ex, shTask(t, "long", "sleep 100"))
	defer func() { ex.Cancel(context.Background(), h); ex.Wait(context.Background(), h) }()
	var s taskState
	json.Unmarshal(h.State, &s)
	s.StartTicks-- // as if the pid now belonged to another process
	forged := *h
	forged.State, _ = json.Marshal(s)
	if err := newTestExecutor(t, Options{}).Recover(context.Background(), &forged); !errors.Is(err, executors.ErrLost) {
		t.Errorf("Recover with a different start time: %v, want ErrLost", err)
	}
}

func TestStartWaitsNoLongerThanItsContext(t *testing.T) {
	ex := newTestExecutor(t, Options{MaxParallel: 1})
	h := mustStart(t, ex, shTask(t, "one", "sleep 100"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := ex.Start(ctx, shTask(t, "two", "true")); !errors.Is(err, context.Canceled) {
		t.Errorf("queued Start after cancel: %v", err)
	}
	ex.Cancel(context.Background(), h)
	mustWait(t, ex, h)
}

// TestTaskSeesItsOwnProcesses: in its PID namespace a task's /proc is the
// namespace's, so its pid and /proc agree and it sees no process of the
// machine's other than its namespace's init and spawner.
func TestTaskSeesItsOwnProcesses(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	tk := shTask(t, "self", `read pid rest </proc/self/stat; [ "$pid" = "$$" ] || exit 3; set -- /proc/[0-9]*; echo $# >count`)
	res := mustWait(t, ex, mustStart(t, ex, tk))
	if ex.ns == nil {
		testenv.SkipOrFail(t, "tasks cannot run in a PID namespace here")
	}
	if res.ExitCode == 3 {
		t.Fatal("the task's /proc/self is not the task: its pid and /proc disagree")
	}
	if !res.Success() {
		t.Fatalf("the task failed: %+v", res)
	}
	b, _ := os.ReadFile(filepath.Join(tk.Dir, "count"))
	if n := strings.TrimSpace(string(b)); n != "3" {
		t.Errorf("the task sees %s processes in /proc, want 3: its namespace's init and spawner, and itself", n)
	}
}

// TestNoNamespaceFallsBack: where no PID namespace can be made (here the
// kernel refuses the clone flags), tasks still run, as flow's children,
// and the executor warns once.
func TestNoNamespaceFallsBack(t *testing.T) {
	ways := namespaceWays
	t.Cleanup(func() { namespaceWays = ways })
	namespaceWays = func() []nsAttrs {
		// CLONE_NEWUSER with CLONE_FS is always EINVAL.
		return []nsAttrs{{sys: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_FS}}}
	}
	var log testenv.Buffer
	ex, err := New(Options{Logger: zerolog.New(&log)})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"one", "two"} {
		if res := mustWait(t, ex, mustStart(t, ex, shTask(t, id, "exit 7"))); res.ExitCode != 7 {
			t.Errorf("task %s without a namespace: %+v", id, res)
		}
	}
	if ex.ns != nil {
		t.Fatal("the executor has a namespace although none could be made")
	}
	if n := strings.Count(log.String(), `"level":"warn"`); n != 1 || !strings.Contains(log.String(), "cannot run in a PID namespace") {
		t.Errorf("%d warnings, want 1 about the missing PID namespace:\n%s", n, log.String())
	}
}

// TestTaskInheritsOnlyItsStreams: a task in the PID namespace holds
// nothing of the machinery that started it: not the socket to flow, not
// flow's /proc.
func TestTaskInheritsOnlyItsStreams(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	tk := shTask(t, "fds", `ls -l /proc/$$/fd/ >fds.txt`)
	if res := mustWait(t, ex, mustStart(t, ex, tk)); !res.Success() {
		t.Fatalf("the task failed: %+v", res)
	}
	if ex.ns == nil {
		testenv.SkipOrFail(t, "tasks cannot run in a PID namespace here")
	}
	b, err := os.ReadFile(filepath.Join(tk.Dir, "fds.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "socket:") || strings.HasSuffix(line, "-> /proc") {
			t.Errorf("the task inherited %q", line)
		}
	}
}
