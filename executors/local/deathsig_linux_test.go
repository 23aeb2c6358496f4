package local

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/internal/testenv"
)

// The tests here kill, with SIGKILL, a process that started a task through
// the executor (this test binary run again as a helper, standing for
// flow), the way a user's `kill -9` of flow would, and check what of the
// task lives on.

const helperEnv = "FLOW_TEST_DEATHSIG_CHILD"

// helperRequest is what the helper is asked to run.
type helperRequest struct {
	Argv   []string
	Dir    string
	Shared bool // Options.SharedPIDNamespace
}

func TestMain(m *testing.M) {
	if req := os.Getenv(helperEnv); req != "" {
		deathsigChild(req)
		return
	}
	os.Exit(m.Run())
}

// deathsigChild starts the requested task, prints its pid and whether it
// runs in the executor's PID namespace, and waits to be killed.
func deathsigChild(req string) {
	var r helperRequest
	if err := json.Unmarshal([]byte(req), &r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ex, err := New(Options{SharedPIDNamespace: r.Shared, Logger: zerolog.New(os.Stderr)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	h, err := ex.Start(context.Background(), &executors.Task{ID: "t", Argv: r.Argv, Dir: r.Dir, Env: map[string]string{"PATH": "/usr/bin:/bin"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Println(h.PID, ex.ns != nil)
	time.Sleep(time.Hour)
}

// helper is a running helper and the task it started.
type helper struct {
	cmd       *exec.Cmd
	taskPID   int
	namespace bool
	stderr    testenv.Buffer
}

// startHelper runs the helper, as cred if not nil, and reads its task's pid.
func startHelper(t *testing.T, bin string, cred *syscall.Credential, r helperRequest) *helper {
	t.Helper()
	req, _ := json.Marshal(r)
	h := &helper{cmd: exec.Command(bin, "-test.run=^$")}
	h.cmd.Env = append(os.Environ(), helperEnv+"="+string(req))
	h.cmd.Stderr = &h.stderr
	if cred != nil {
		h.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.cmd.Process.Kill(); h.cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the helper did not report its task: %v\n%s", err, h.stderr.String())
	}
	if _, err := fmt.Sscan(line, &h.taskPID, &h.namespace); err != nil {
		t.Fatalf("bad line from the helper %q: %v", line, err)
	}
	return h
}

// kill kills the helper with SIGKILL and reaps it.
func (h *helper) kill(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()
}

// waitFor polls until cond holds, failing the test after a bound meant
// only to stop a hang, not to measure anything.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting: %s", what)
		case <-tick.C:
		}
	}
}

// alive is a process still running: same pid, same start, not a zombie.
type alive struct {
	pid   int
	ticks uint64
}

func (a alive) running() bool { return sameProcess(a.pid, a.ticks) }

// TestTaskDiesWithFlow: the task itself goes with the process that
// started it.
func TestTaskDiesWithFlow(t *testing.T) {
	h := startHelper(t, os.Args[0], nil, helperRequest{Argv: []string{"/bin/sleep", "60"}, Dir: t.TempDir()})
	ticks, err := processStartTicks(h.taskPID)
	if err != nil {
		t.Fatalf("the task (pid %d) is not running: %v", h.taskPID, err)
	}
	h.kill(t)
	task := alive{h.taskPID, ticks}
	waitFor(t, fmt.Sprintf("task %d to end with the process that started it", h.taskPID), func() bool { return !task.running() })
}

// setsidScript starts a grandchild in a session of its own, which no
// process group kill reaches; marker makes its command line unique, so
// the test can find it in /proc whatever pid it has in the task's
// namespace (the task's own command line spells it in two parts). It
// writes grandchild.up once it runs; the task first writes its uid to
// uid.
func setsidScript(marker string) string {
	head, tail, _ := strings.Cut(marker, "-")
	return fmt.Sprintf(`id -u >uid; m=%s; setsid sh -c "echo >grandchild.up; sleep 300; : $m-%s" & wait`, head, tail)
}

// TestSetsidGrandchildDiesWithFlow: a task's grandchild that called
// setsid goes too, because the task's PID namespace ends with flow. As
// root, also as an unprivileged user, where the namespace needs a user
// namespace as well.
func TestSetsidGrandchildDiesWithFlow(t *testing.T) {
	t.Run("this user", func(t *testing.T) { setsidGrandchild(t, nil, false) })
	if os.Geteuid() == 0 {
		t.Run("unprivileged", func(t *testing.T) { setsidGrandchild(t, nobody(t), false) })
	}
	// Without the namespace (the option, or where none can be made), the
	// grandchild survives: what this test would see without it.
	t.Run("shared namespace", func(t *testing.T) { setsidGrandchild(t, nil, true) })
}

func setsidGrandchild(t *testing.T, cred *syscall.Credential, shared bool) {
	bin, dir := os.Args[0], t.TempDir()
	if cred != nil {
		bin, dir = reachableCopy(t, cred)
	}
	marker := fmt.Sprintf("flow-test-grandchild-%d-%d", os.Getpid(), time.Now().UnixNano())
	h := startHelper(t, bin, cred, helperRequest{Argv: []string{"sh", "-c", setsidScript(marker)}, Dir: dir, Shared: shared})
	if !shared && !h.namespace {
		testenv.SkipOrFail(t, "tasks cannot run in a PID namespace here (is creating user namespaces forbidden?): "+h.stderr.String())
	}
	waitFor(t, "the grandchild to start", func() bool {
		_, err := os.Stat(filepath.Join(dir, "grandchild.up"))
		return err == nil
	})
	gpid := findByMarker(t, marker)
	wantUID := os.Geteuid()
	if cred != nil {
		wantUID = int(cred.Uid)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "uid")); strings.TrimSpace(string(b)) != strconv.Itoa(wantUID) {
		t.Errorf("the task ran as uid %q, want %d, the uid of its flow", b, wantUID)
	}
	g := grandchild(t, gpid)
	t.Cleanup(func() {
		if g.running() {
			syscall.Kill(-gpid, syscall.SIGKILL) // its group: it and its sleep
		}
	})
	taskTicks, _ := processStartTicks(h.taskPID)
	task := alive{h.taskPID, taskTicks}

	h.kill(t)
	if shared {
		// The task is killed by its parent-death signal; its grandchild
		// is not, and once the task is gone, nothing will end it.
		waitFor(t, "the task to end with its flow", func() bool { return !task.running() })
		if !g.running() {
			t.Fatalf("the grandchild (pid %d) died with flow although tasks share flow's PID namespace", gpid)
		}
		return
	}
	// The kernel kills the namespace's processes one by one, and each is
	// gone only once reaped: wait for both rather than look at the task
	// the moment its grandchild has gone.
	waitFor(t, fmt.Sprintf("grandchild %d, which called setsid, to end with flow", gpid), func() bool { return !g.running() })
	waitFor(t, fmt.Sprintf("the task (pid %d) to end with flow", h.taskPID), func() bool { return !task.running() })
}

func grandchild(t *testing.T, pid int) alive {
	t.Helper()
	ticks, err := processStartTicks(pid)
	if err != nil {
		t.Fatalf("the grandchild (pid %d) is not running: %v", pid, err)
	}
	return alive{pid, ticks}
}

// findByMarker returns the pid of the one process whose command line
// holds marker and which leads a session of its own: the grandchild after
// its setsid, not a child it forked and that has yet to exec.
func findByMarker(t *testing.T, marker string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(b), marker) && session(t, pid) == pid {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d session leaders hold %s in their command line, want the grandchild alone: %v", len(found), marker, found)
	}
	return found[0]
}

// session reads a process's session id from /proc/PID/stat (field 6), or
// 0 if it is gone.
func session(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0 // gone
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	sid, _ := strconv.Atoi(fields[3])
	return sid
}

// nobody is the credential of the unprivileged account nobody.
func nobody(t *testing.T) *syscall.Credential {
	u, err := user.Lookup("nobody")
	if err != nil {
		testenv.SkipOrFail(t, "no unprivileged account (nobody) to run the test as: "+err.Error())
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// reachableCopy copies this test binary where cred can run it, and makes
// a work directory cred owns.
func reachableCopy(t *testing.T, cred *syscall.Credential) (bin, dir string) {
	base, err := os.MkdirTemp("", "flow-local-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	bin = filepath.Join(base, "local.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	dir = filepath.Join(base, "work")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatal(err)
	}
	return bin, dir
}

// TestCloseEndsLeftovers: a task ended but left a process that called
// setsid; once Close returns (at the end of a run), that process is gone.
func TestCloseEndsLeftovers(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	marker := fmt.Sprintf("flow-test-leftover-%d-%d", os.Getpid(), time.Now().UnixNano())
	head, tail, _ := strings.Cut(marker, "-")
	tk := shTask(t, "leaves", fmt.Sprintf(`m=%s; setsid sh -c "echo >up; sleep 300; : $m-%s" & until [ -e up ]; do sleep 0.01; done`, head, tail))
	if res := mustWait(t, ex, mustStart(t, ex, tk)); !res.Success() {
		t.Fatalf("the task failed: %+v", res)
	}
	if ex.ns == nil {
		testenv.SkipOrFail(t, "tasks cannot run in a PID namespace here")
	}
	left := grandchild(t, findByMarker(t, marker))
	t.Cleanup(func() { syscall.Kill(-left.pid, syscall.SIGKILL) })
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}
	if left.running() {
		t.Errorf("the task's leftover (pid %d) runs on after Close", left.pid)
	}
	// The executor still runs tasks, in a new namespace.
	if res := mustWait(t, ex, mustStart(t, ex, shTask(t, "after", "true"))); !res.Success() {
		t.Errorf("a task after Close: %+v", res)
	}
}
