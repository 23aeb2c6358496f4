package executortest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors"
)

// Run runs the conformance suite. newExec is called once per subtest, and
// may register cleanups on the t it is given.
func Run(t *testing.T, newExec func(t *testing.T) executors.Executor) {
	s := &suite{newExec: newExec}
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"ExitZero", s.exitZero},
		{"ExitNonZero", s.exitNonZero},
		{"KilledBySignal", s.killedBySignal},
		{"StdoutAndStderrFiles", s.stdoutStderr},
		{"Stdin", s.stdin},
		{"NoStdin", s.noStdin},
		{"EnvironmentIsExactlyTheTasks", s.environment},
		{"WorkingDirectory", s.workingDir},
		{"TimeLimitKillsProcessGroup", s.timeLimit},
		{"ContextCancelKillsProcessGroup", s.contextCancel},
		{"CancelKillsProcessGroup", s.cancel},
		{"CancelAfterExitIsHarmless", s.cancelAfterExit},
		{"CommandNotFound", s.notFound},
		{"InvalidTask", s.invalidTask},
		{"HandleSurvivesJSON", s.handleJSON},
		{"WaitTwice", s.waitTwice},
		{"ManyTasksInParallel", s.parallel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t)
		})
	}
}

type suite struct {
	newExec func(t *testing.T) executors.Executor
}

// testPath is the PATH every task gets: where sh, cat, env and sleep live.
const testPath = "/usr/bin:/bin"

// task makes a task for this test, running in a fresh directory.
func task(t *testing.T, argv ...string) *executors.Task {
	return &executors.Task{
		ID:   t.Name(),
		Argv: argv,
		Env:  map[string]string{"PATH": testPath},
		Dir:  t.TempDir(),
	}
}

func sh(t *testing.T, script string) *executors.Task {
	return task(t, "sh", "-c", script)
}

// Complete starts a task, waits for it, and fails the test on any error.
func Complete(t *testing.T, ex executors.Executor, tk *executors.Task) executors.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := ex.Start(ctx, tk)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	res, err := ex.Wait(ctx, h)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return res
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the task's output is missing: %v", err)
	}
	return string(b)
}

func (s *suite) exitZero(t *testing.T) {
	before := time.Now()
	res := Complete(t, s.newExec(t), task(t, "true"))
	if res.ExitCode != 0 || res.Signal != "" || res.TimedOut || !res.Success() {
		t.Errorf("true: got %+v, want a plain exit 0", res)
	}
	if res.Started.Before(before.Add(-time.Second)) || res.Finished.Before(res.Started) {
		t.Errorf("implausible times: started %v, finished %v, test began %v", res.Started, res.Finished, before)
	}
}

func (s *suite) exitNonZero(t *testing.T) {
	res := Complete(t, s.newExec(t), sh(t, "exit 3"))
	if res.ExitCode != 3 || res.Signal != "" || res.Success() {
		t.Errorf("exit 3: got %+v", res)
	}
}

func (s *suite) killedBySignal(t *testing.T) {
	res := Complete(t, s.newExec(t), sh(t, "kill -KILL $$"))
	if res.ExitCode != -1 || res.Signal != "SIGKILL" || res.TimedOut {
		t.Errorf("kill -KILL $$: got exit %d signal %q timed out %v, want -1 SIGKILL false", res.ExitCode, res.Signal, res.TimedOut)
	}
}

func (s *suite) stdoutStderr(t *testing.T) {
	tk := sh(t, "echo to-stdout; echo to-stderr >&2")
	tk.Stdout = "out.txt"                        // relative to Dir
	tk.Stderr = filepath.Join(tk.Dir, "err.txt") // absolute
	// Existing files are truncated, not appended to.
	if err := os.WriteFile(filepath.Join(tk.Dir, "out.txt"), []byte(strings.Repeat("old\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	res := Complete(t, s.newExec(t), tk)
	if got := readFile(t, filepath.Join(tk.Dir, "out.txt")); got != "to-stdout\n" {
		t.Errorf("stdout file holds %q, want %q", got, "to-stdout\n")
	}
	if got := readFile(t, tk.Stderr); got != "to-stderr\n" {
		t.Errorf("stderr file holds %q, want %q", got, "to-stderr\n")
	}
	if !strings.Contains(res.StderrTail, "to-stderr") {
		t.Errorf("StderrTail = %q, want it to hold the task's stderr", res.StderrTail)
	}
}

func (s *suite) stdin(t *testing.T) {
	tk := task(t, "cat")
	const input = "line one\nline two\n"
	if err := os.WriteFile(filepath.Join(tk.Dir, "in.txt"), []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	tk.Stdin, tk.Stdout = "in.txt", "out.txt"
	Complete(t, s.newExec(t), tk)
	if got := readFile(t, filepath.Join(tk.Dir, "out.txt")); got != input {
		t.Errorf("cat copied %q from stdin, want %q", got, input)
	}
}

// noStdin: with Stdin "", a reader of stdin sees end of file at once
// rather than flow's own stdin.
func (s *suite) noStdin(t *testing.T) {
	tk := task(t, "cat")
	tk.Stdout = "out.txt"
	tk.TimeLimit = 30 * time.Second
	res := Complete(t, s.newExec(t), tk)
	if !res.Success() {
		t.Errorf("cat with no stdin: %+v", res)
	}
	if got := readFile(t, filepath.Join(tk.Dir, "out.txt")); got != "" {
		t.Errorf("cat with no stdin printed %q", got)
	}
}

func (s *suite) environment(t *testing.T) {
	tk := task(t, "env")
	tk.Env["FLOW_TEST_VAR"] = "a value with spaces and = signs"
	tk.Env["EMPTY"] = ""
	tk.Stdout = "env.txt"
	Complete(t, s.newExec(t), tk)
	got := strings.Split(strings.TrimSuffix(readFile(t, filepath.Join(tk.Dir, "env.txt")), "\n"), "\n")
	// PWD naming the working directory, as a shell sets it, is the one
	// addition the contract allows (a sandbox's launcher sets it).
	got = slices.DeleteFunc(got, func(kv string) bool { return kv == "PWD="+tk.Dir })
	var want []string
	for k, v := range tk.Env {
		want = append(want, k+"="+v)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the task saw the environment\n  %q\nwant exactly\n  %q", got, want)
	}
}

func (s *suite) workingDir(t *testing.T) {
	tk := sh(t, "pwd -P")
	tk.Stdout = "pwd.txt"
	Complete(t, s.newExec(t), tk)
	want, err := filepath.EvalSymlinks(tk.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(tk.Dir, "pwd.txt"))); got != want {
		t.Errorf("the task ran in %q, want %q", got, want)
	}
}

// groupTask starts a background child that would outlive its parent by
// a month, says so in the file "child" once it runs, and leaves the
// foreground sleeping long enough to be stopped. The child's command line
// (sleep for a number of seconds unique to the test) is how
// AssertNoSurvivor finds it in /proc, whatever pid namespace it runs in.
func groupTask(t *testing.T) (*executors.Task, string) {
	mark := SurvivorMark()
	return sh(t, "sleep "+mark+" & echo started > child; sleep 100"), mark
}

// waitChild waits until the task's background child runs, so that
// stopping the task can show that its children die with it.
func waitChild(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(stopDeadline); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "child")); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the task's background child did not start within %v", stopDeadline)
		}
	}
}

// SurvivorMark is a number of seconds for a background "sleep" of a task
// that must die with it: over a month, and unique enough to find that
// process by its command line alone (AssertNoSurvivor).
func SurvivorMark() string {
	return strconv.FormatInt(3_000_000+time.Now().UnixNano()/1000%1_000_000, 10)
}

// AssertNoSurvivor fails if "sleep MARK" is still running after the task
// that started it was stopped. A killed process can take a moment to go,
// so it is given stopDeadline; one that survived would stay for a month.
func AssertNoSurvivor(t testing.TB, mark string) {
	t.Helper()
	var pid string
	for deadline := time.Now().Add(stopDeadline); ; time.Sleep(50 * time.Millisecond) {
		if pid = findProcess("sleep", mark); pid == "" {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Errorf("a background child of the task (pid %s, sleep %s) survived it", pid, mark)
	if p, err := strconv.Atoi(pid); err == nil {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

// findProcess returns the pid of a running process whose command line is
// exactly argv, or "".
func findProcess(argv ...string) string {
	want := strings.Join(argv, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(b) == want {
			return e.Name()
		}
	}
	return ""
}

// stopDeadline is how long a stopped task may take to go: longer than any
// reasonable kill grace period, far shorter than groupTask's sleep.
const stopDeadline = 30 * time.Second

// timeLimit: a task past its time limit is stopped with its children.
// The limit must pass after the child started, to show the children die
// too: on a machine too busy to start it in time, the limit doubles.
func (s *suite) timeLimit(t *testing.T) {
	for limit := 500 * time.Millisecond; ; limit *= 2 {
		tk, mark := groupTask(t)
		tk.TimeLimit = limit
		began := time.Now()
		res := Complete(t, s.newExec(t), tk)
		took := time.Since(began)
		if !res.TimedOut || res.Success() {
			t.Errorf("a task past its time limit: got %+v, want TimedOut", res)
		}
		if took < tk.TimeLimit || took > tk.TimeLimit+stopDeadline {
			t.Errorf("Wait returned after %v for a %v time limit", took, tk.TimeLimit)
		}
		if _, err := os.Stat(filepath.Join(tk.Dir, "child")); err == nil {
			AssertNoSurvivor(t, mark)
			return
		}
		if limit > stopDeadline {
			t.Fatalf("the task's background child never started before its %v time limit", limit)
		}
	}
}

func (s *suite) contextCancel(t *testing.T) {
	ex := s.newExec(t)
	tk, mark := groupTask(t)
	h, err := ex.Start(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	waitChild(t, tk.Dir)
	ctx, cancel := context.WithCancel(context.Background())
	var cancelled atomic.Bool
	time.AfterFunc(100*time.Millisecond, func() { cancelled.Store(true); cancel() })
	defer cancel()
	began := time.Now()
	res, err := ex.Wait(ctx, h)
	if !errors.Is(err, context.Canceled) || !cancelled.Load() {
		t.Errorf("Wait after its ctx ended: err = %v, want context.Canceled, after the cancel", err)
	}
	if res.Success() || res.TimedOut {
		t.Errorf("a task stopped by its ctx: got %+v", res)
	}
	if took := time.Since(began); took > stopDeadline {
		t.Errorf("Wait took %v to stop a task whose ctx ended", took)
	}
	AssertNoSurvivor(t, mark)
}

func (s *suite) cancel(t *testing.T) {
	ex := s.newExec(t)
	tk, mark := groupTask(t)
	h, err := ex.Start(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	waitChild(t, tk.Dir)
	var cancelled atomic.Bool
	time.AfterFunc(100*time.Millisecond, func() {
		cancelled.Store(true)
		if err := ex.Cancel(context.Background(), h); err != nil {
			t.Errorf("Cancel: %v", err)
		}
	})
	began := time.Now()
	res, err := ex.Wait(context.Background(), h)
	if err != nil {
		t.Errorf("Wait of a cancelled task: %v", err)
	}
	if res.Success() || res.TimedOut {
		t.Errorf("a cancelled task: got %+v", res)
	}
	if !cancelled.Load() {
		t.Errorf("Wait returned %+v before Cancel was called", res)
	}
	if took := time.Since(began); took > stopDeadline {
		t.Errorf("a cancelled task ended %v after the cancel", took)
	}
	AssertNoSurvivor(t, mark)
}

func (s *suite) cancelAfterExit(t *testing.T) {
	ex := s.newExec(t)
	tk := sh(t, "echo done > done")
	h, err := ex.Start(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(stopDeadline); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(tk.Dir, "done")); err == nil || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // let it exit
	if err := ex.Cancel(context.Background(), h); err != nil {
		t.Errorf("Cancel of a task that ended but was not waited for: %v", err)
	}
	res, err := ex.Wait(context.Background(), h)
	if err != nil || !res.Success() {
		t.Errorf("Wait after a late Cancel: %+v, %v; want the task's own success", res, err)
	}
}

func (s *suite) notFound(t *testing.T) {
	for _, name := range []string{"flow-no-such-command", "/nonexistent/flow-no-such-command"} {
		ex := s.newExec(t)
		err := startAndWait(ex, task(t, name, "arg"))
		if !errors.Is(err, executors.ErrNotFound) {
			t.Errorf("running %q: err = %v, want ErrNotFound", name, err)
		} else if !strings.Contains(err.Error(), name) {
			t.Errorf("running %q: the error %q does not name the command", name, err)
		}
	}
}

// startAndWait returns the first error of Start and Wait.
func startAndWait(ex executors.Executor, tk *executors.Task) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := ex.Start(ctx, tk)
	if err != nil {
		return err
	}
	_, err = ex.Wait(ctx, h)
	return err
}

func (s *suite) invalidTask(t *testing.T) {
	ex := s.newExec(t)
	for name, tk := range map[string]*executors.Task{
		"no argv": {ID: "x", Dir: t.TempDir()},
		"no id":   {Argv: []string{"true"}, Dir: t.TempDir()},
		"no dir":  {ID: "x", Argv: []string{"true"}},
	} {
		if h, err := ex.Start(context.Background(), tk); err == nil {
			t.Errorf("%s: Start accepted the task and returned %+v", name, h)
			ex.Wait(context.Background(), h)
		}
	}
}

func (s *suite) handleJSON(t *testing.T) {
	ex := s.newExec(t)
	tk := sh(t, "exit 7")
	h, err := ex.Start(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	if h.Executor != ex.Name() || h.TaskID != tk.ID {
		t.Errorf("handle %+v does not name executor %q and task %q", h, ex.Name(), tk.ID)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back executors.Handle
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	res, err := ex.Wait(context.Background(), &back)
	if err != nil || res.ExitCode != 7 {
		t.Errorf("Wait with a handle read back from JSON: %+v, %v; want exit 7", res, err)
	}
}

func (s *suite) waitTwice(t *testing.T) {
	ex := s.newExec(t)
	h, err := ex.Start(context.Background(), task(t, "true"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Wait(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Wait(context.Background(), h); !errors.Is(err, executors.ErrUnknownTask) {
		t.Errorf("second Wait: err = %v, want ErrUnknownTask", err)
	}
}

func (s *suite) parallel(t *testing.T) {
	ex := s.newExec(t)
	const n = 40
	dir := t.TempDir()
	var wg sync.WaitGroup
	results := make([]executors.Result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			tk := sh(t, fmt.Sprintf("echo task %d", i))
			tk.ID = fmt.Sprintf("%s/%d", t.Name(), i)
			tk.Dir = dir
			tk.Stdout = fmt.Sprintf("out-%d", i)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			h, err := ex.Start(ctx, tk)
			if err == nil {
				results[i], err = ex.Wait(ctx, h)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !results[i].Success() {
			t.Errorf("task %d: %+v, %v", i, results[i], errs[i])
			continue
		}
		if got, want := readFile(t, filepath.Join(dir, fmt.Sprintf("out-%d", i))), fmt.Sprintf("task %d\n", i); got != want {
			t.Errorf("task %d wrote %q, want %q", i, got, want)
		}
	}
}
