package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/executortest"
	"github.com/flow-cwl/flow/executors/local"
	"github.com/flow-cwl/flow/internal/testenv"
)

// newSandbox is a sandbox over the local executor, or a skip (a failure
// in CI) where none can be made.
func newSandbox(t *testing.T, opts Options) executors.Executor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Check(ctx, opts); err != nil {
		testenv.SkipOrFail(t, err.Error())
	}
	inner, err := local.New(local.Options{KillGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Wrap(inner, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// viewed gives each task of the shared suite the view the engine gives a
// job: its directory, writable, at its own path.
type viewed struct{ executors.Executor }

func (v viewed) Start(ctx context.Context, t *executors.Task) (*executors.Handle, error) {
	if t.Dir != "" && len(t.Mounts) == 0 {
		c := *t
		c.Mounts = []executors.Mount{{Source: t.Dir, Target: t.Dir, Writable: true}}
		t = &c
	}
	return v.Executor.Start(ctx, t)
}

// A sandboxed executor is still an executor: it passes the suite every
// executor passes (exit codes, signals, streams, environment, time limits,
// cancelling a whole process group, commands not found).
func TestSandboxedExecutorConformance(t *testing.T) {
	executortest.Run(t, func(t *testing.T) executors.Executor {
		return viewed{newSandbox(t, Options{})}
	})
}

// job is a task in a fresh directory, the way the engine gives a job its
// view, with the input files mounted read-only.
func job(t *testing.T, script string, inputs ...string) *executors.Task {
	dir := t.TempDir()
	tk := &executors.Task{ID: t.Name(), Argv: []string{"/bin/sh", "-c", script}, Env: map[string]string{"PATH": "/usr/bin:/bin"},
		Dir: dir, Stdout: "out.txt", Stderr: "err.txt", Mounts: []executors.Mount{{Source: dir, Target: dir, Writable: true}}}
	for _, in := range inputs {
		tk.Mounts = append(tk.Mounts, executors.Mount{Source: in, Target: in})
	}
	return tk
}

func runTask(t *testing.T, ex executors.Executor, tk *executors.Task) (executors.Result, string) {
	t.Helper()
	res := executortest.Complete(t, ex, tk)
	out, _ := os.ReadFile(filepath.Join(tk.Dir, "out.txt"))
	errs, _ := os.ReadFile(filepath.Join(tk.Dir, "err.txt"))
	return res, string(out) + string(errs)
}

// A job reads its inputs but cannot change them, writes its own
// directory, and cannot read what it was not given.
func TestJobSeesOnlyItsFiles(t *testing.T) {
	ex := newSandbox(t, Options{})
	in := filepath.Join(t.TempDir(), "input.txt")
	secret := filepath.Join(t.TempDir(), "secret.txt")
	for p, text := range map[string]string{in: "input bytes\n", secret: "secret bytes\n"} {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf(`cat %[1]s
echo changed > %[1]s && echo WROTE-INPUT
cat %[2]s && echo READ-SECRET
rm -f %[1]s && echo REMOVED-INPUT
cat /etc/shadow 2>/dev/null | head -c 100
echo mine > mine.txt`, in, secret)
	res, out := runTask(t, ex, job(t, script, in))
	if !res.Success() {
		t.Fatalf("the job failed: %+v\n%s", res, out)
	}
	if !strings.Contains(out, "input bytes") {
		t.Errorf("the job could not read its input:\n%s", out)
	}
	for _, bad := range []string{"WROTE-INPUT", "READ-SECRET", "REMOVED-INPUT", "secret bytes", "root:"} {
		if strings.Contains(out, bad) {
			t.Errorf("the job's output has %q:\n%s", bad, out)
		}
	}
	if data, _ := os.ReadFile(in); string(data) != "input bytes\n" {
		t.Errorf("the input is now %q", data)
	}
}

// The job's /proc shows its own processes only, and it cannot signal the
// process that started it.
func TestJobCannotSeeOrSignalOtherProcesses(t *testing.T) {
	ex := newSandbox(t, Options{})
	script := fmt.Sprintf(`kill -0 %d 2>/dev/null && echo SIGNALLED-PARENT
test -e /proc/%d/environ && echo SAW-PARENT
ls /proc | grep -c '^[0-9]'`, os.Getpid(), os.Getpid())
	res, out := runTask(t, ex, job(t, script))
	if !res.Success() {
		t.Fatalf("the job failed: %+v\n%s", res, out)
	}
	if strings.Contains(out, "SIGNALLED-PARENT") || strings.Contains(out, "SAW-PARENT") {
		t.Errorf("the job reached the test's process:\n%s", out)
	}
	var n int
	if _, err := fmt.Sscan(strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]), &n); err != nil || n > 5 {
		t.Errorf("the job's /proc lists %d processes (want its own few):\n%s", n, out)
	}
}

// A job reaches no network, not even loopback, unless it asks for it.
func TestJobHasNoNetworkUnlessItAsks(t *testing.T) {
	ex := newSandbox(t, Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan struct{}, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
			accepted <- struct{}{}
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	script := fmt.Sprintf(`bash -c 'echo hi > /dev/tcp/127.0.0.1/%d' 2>/dev/null && echo CONNECTED; true`, port)

	res, out := runTask(t, ex, job(t, script))
	if !res.Success() || strings.Contains(out, "CONNECTED") || len(accepted) > 0 {
		t.Errorf("without NetworkAccess the job reached a loopback port: %+v\n%s", res, out)
	}
	tk := job(t, script)
	tk.Network = true
	if res, out = runTask(t, ex, tk); !strings.Contains(out, "CONNECTED") {
		t.Errorf("with NetworkAccess the job could not connect: %+v\n%s", res, out)
	}
}

// Stopping a job stops every process in it, even one that left the job's
// process group with setsid.
func TestStoppingAJobEndsProcessesThatLeftItsGroup(t *testing.T) {
	ex := newSandbox(t, Options{})
	tk := job(t, `setsid sh -c 'sleep 3; echo alive > survivor' & sleep 100`)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	h, err := ex.Start(context.Background(), tk)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if _, err := ex.Wait(ctx, h); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v", err)
	}
	time.Sleep(time.Until(began.Add(4 * time.Second)))
	if _, err := os.Stat(filepath.Join(tk.Dir, "survivor")); err == nil {
		t.Error("a process that called setsid outlived its stopped job")
	}
}

// A hidden path under the system directories is not shown; the rest of
// its directory is.
func TestHiddenPathsAreNotShown(t *testing.T) {
	var hidden string
	for _, p := range []string{"/etc/hostname", "/etc/os-release", "/etc/passwd"} {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			hidden = p
			break
		}
	}
	if hidden == "" {
		t.Skip("no non-empty file in /etc to hide")
	}
	ex := newSandbox(t, Options{Hide: []string{hidden}})
	want, err := os.ReadFile(hidden)
	if err != nil {
		t.Fatal(err)
	}
	res, out := runTask(t, ex, job(t, "cat "+hidden+" && echo READ-IT; ls /etc/ | grep -c ."))
	if !res.Success() {
		t.Fatalf("the job failed: %+v\n%s", res, out)
	}
	if strings.Contains(out, "READ-IT") || strings.Contains(out, strings.TrimSpace(string(want))) {
		t.Errorf("with %s hidden the job read it:\n%s", hidden, out)
	}
	if strings.Contains(out, "\n0\n") || strings.HasPrefix(out, "0\n") {
		t.Errorf("with %s hidden the job saw an empty /etc:\n%s", hidden, out)
	}
}

// What the sandbox cannot show is refused before anything runs.
func TestRefusesWhatItCannotShow(t *testing.T) {
	ex := newSandbox(t, Options{})
	tk := job(t, "true")
	tk.Mounts = append(tk.Mounts, executors.Mount{Source: t.TempDir(), Target: "/elsewhere"})
	if _, err := ex.Start(context.Background(), tk); err == nil || !strings.Contains(err.Error(), "/elsewhere") {
		t.Errorf("a mount at another path: err = %v", err)
	}
	tk = job(t, "true")
	tk.Argv = []string{"/root/flow-no-such-dir/tool"}
	if _, err := ex.Start(context.Background(), tk); !errors.Is(err, executors.ErrNotFound) {
		t.Errorf("a program outside the sandbox: err = %v, want ErrNotFound", err)
	}
}
