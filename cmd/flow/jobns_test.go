package main

import (
	"bytes"
	"context"
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

	"github.com/flow-cwl/flow/internal/testenv"
)

// setsidTool starts a grandchild in a session of its own, which no process
// group kill reaches, and waits. The grandchild's command line holds
// "flow-test-" and the tag (the tool's own spells it in two parts), so the
// test can find it in /proc; it writes grandchild.up in dir once it runs.
const setsidTool = `cwlVersion: v1.2
class: CommandLineTool
requirements: {ShellCommandRequirement: {}}
inputs: {tag: string, dir: string}
arguments:
  - valueFrom: 'm=flow-test; setsid sh -c "echo >$(inputs.dir)/grandchild.up; sleep 300; : $m-$(inputs.tag)" & wait'
    shellQuote: false
outputs: {}
`

// TestStoppedFlowLeavesNoJobProcess: when flow ends, killed with SIGKILL
// or stopped with SIGTERM, no process of its jobs is left, not even one
// that called setsid, without --sandbox; as root and as an unprivileged
// user.
func TestStoppedFlowLeavesNoJobProcess(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { stopFlowWithSetsidJob(t, sig, nil) })
	}
	if os.Geteuid() == 0 {
		t.Run("unprivileged", func(t *testing.T) { stopFlowWithSetsidJob(t, syscall.SIGKILL, unprivileged(t)) })
	}
}

func stopFlowWithSetsidJob(t *testing.T, sig syscall.Signal, cred *syscall.Credential) {
	base, err := os.MkdirTemp("", "flow-jobns-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	bin := flowBin
	if cred != nil {
		bin = filepath.Join(base, "flow")
		copyExecutable(t, flowBin, bin)
	}
	dirs := map[string]string{}
	for _, d := range []string{"home", "data", "work", "out", "up"} {
		dirs[d] = filepath.Join(base, d)
		if err := os.Mkdir(dirs[d], 0o755); err != nil {
			t.Fatal(err)
		}
		if cred != nil {
			os.Chown(dirs[d], int(cred.Uid), int(cred.Gid))
		}
	}
	tool := filepath.Join(base, "setsid.cwl")
	writeFile(t, tool, setsidTool)
	os.Chmod(tool, 0o644)

	tag := fmt.Sprintf("grandchild-%d-%d", os.Getpid(), time.Now().UnixNano())
	cmd := exec.Command(bin, "run", "--no-cache", "--tmpdir-prefix", dirs["work"], "--outdir", dirs["out"], tool, "--tag", tag, "--dir", dirs["up"])
	cmd.Env = append(os.Environ(), "HOME="+dirs["home"], "XDG_DATA_HOME="+dirs["data"], "XDG_CONFIG_HOME="+dirs["home"])
	var stderr testenv.Buffer
	cmd.Stderr = &stderr
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitUntil(t, "the job's grandchild to start", func() bool {
		_, err := os.Stat(filepath.Join(dirs["up"], "grandchild.up"))
		return err == nil
	})
	if strings.Contains(stderr.String(), "PID namespace") {
		testenv.SkipOrFail(t, "jobs cannot run in a PID namespace here: "+stderr.String())
	}
	gpid, gstart := processWith(t, "flow-test-"+tag)
	t.Cleanup(func() { syscall.Kill(-gpid, syscall.SIGKILL) }) // its group: it and its sleep

	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	waitUntil(t, fmt.Sprintf("the grandchild (pid %d), which called setsid, to end with its flow (%v)", gpid, sig), func() bool {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", gpid))
		if err != nil {
			return true
		}
		f := statFields(st)
		return f[19] != gstart || f[0] == "Z"
	})
}

// processWith finds the one process whose command line holds marker and
// which leads a session of its own (the grandchild after its setsid, not
// a child it forked and that has yet to exec), and returns its pid and
// start time.
func processWith(t *testing.T, marker string) (int, string) {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		st, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if bytes.Contains(b, []byte(marker)) && len(st) > 0 && statFields(st)[3] == e.Name() {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d session leaders hold %s in their command line, want the grandchild alone: %v", len(found), marker, found)
	}
	return found[0], statField(t, found[0], 19)
}

// statField is field i (0 is the state) of /proc/PID/stat after the
// command name.
func statField(t *testing.T, pid, i int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	return statFields(b)[i]
}

func statFields(b []byte) []string {
	return strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
}

// waitUntil polls cond; the bound only stops a hang and measures nothing.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// unprivileged is the credential of the account nobody.
func unprivileged(t *testing.T) *syscall.Credential {
	u, err := user.Lookup("nobody")
	if err != nil {
		testenv.SkipOrFail(t, "no unprivileged account (nobody) to run flow as: "+err.Error())
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// jobPID turns the pid a job of the flow process flowPID wrote for itself
// ($$, as its PID namespace numbers it) into the pid this test sees: the
// descendant of flow whose innermost pid (the last of NSpid in
// /proc/PID/status) it is.
func jobPID(t *testing.T, flowPID, inner int) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "NSpid:" && f[len(f)-1] == strconv.Itoa(inner) && descends(pid, flowPID) {
				return pid
			}
		}
	}
	t.Fatalf("no process of flow (pid %d) has pid %d in its namespace", flowPID, inner)
	return 0
}

// descends reports whether pid is a descendant of ancestor.
func descends(pid, ancestor int) bool {
	for pid > 1 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		ppid, _ := strconv.Atoi(statFields(b)[1])
		if ppid == ancestor {
			return true
		}
		pid = ppid
	}
	return false
}
