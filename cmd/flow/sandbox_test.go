package main

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors/sandbox"
	"github.com/flow-cwl/flow/internal/testenv"
)

func needSandbox(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sandbox.Check(ctx, sandbox.Options{}); err != nil {
		testenv.SkipOrFail(t, err.Error())
	}
}

const overwriteTool = `cwlVersion: v1.2
class: CommandLineTool
requirements: {ShellCommandRequirement: {}}
inputs: {data: File}
arguments: [{valueFrom: "echo overwritten > $(inputs.data.path)", shellQuote: false}]
outputs: {}
`

// With --sandbox a tool cannot overwrite its input: the run fails with
// one line that says why, and the input keeps its bytes.
func TestSandboxKeepsInputsIntact(t *testing.T) {
	needSandbox(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "overwrite.cwl"), overwriteTool)
	data := filepath.Join(dir, "data.txt")
	writeFile(t, data, "precious\n")
	env := []string{"XDG_DATA_HOME=" + t.TempDir()}
	r := flowEnv(t, env, "run", "--sandbox", "--outdir", t.TempDir(), filepath.Join(dir, "overwrite.cwl"), "--data", data)
	if r.code != 1 {
		t.Fatalf("flow run --sandbox of a tool that overwrites its input: exit %d, want 1\n%s", r.code, r.stderr)
	}
	var lines []string // the error's, without the log's "run started"
	for _, l := range stderrLines(r.stderr) {
		if !strings.Contains(l, " INF run started; ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "Read-only file system") {
		t.Errorf("want one line saying the input is read-only, got:\n%s", r.stderr)
	}
	if got, _ := os.ReadFile(data); string(got) != "precious\n" {
		t.Errorf("the input is now %q", got)
	}
}

const lingerTool = `cwlVersion: v1.2
class: CommandLineTool
requirements: {ShellCommandRequirement: {}}
inputs: []
arguments: [{valueFrom: "touch started; setsid sh -c 'sleep 4; echo alive > survivor' & sleep 100", shellQuote: false}]
outputs: {}
`

// A flow killed with SIGKILL leaves nothing of its sandboxed jobs
// running, not even a process that left the job's process group.
func TestKilledFlowLeavesNoSandboxedProcess(t *testing.T) {
	needSandbox(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "linger.cwl"), lingerTool)
	work := t.TempDir()
	cmd := exec.Command(flowBin, "run", "--sandbox", "--no-cache", "--tmpdir-prefix", work, "--outdir", t.TempDir(), filepath.Join(dir, "linger.cwl"))
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(time.Minute)
	for find(work, "started") == "" {
		if time.Now().After(deadline) {
			t.Fatal("the job did not start within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	time.Sleep(time.Until(began.Add(5 * time.Second)))
	if p := find(work, "survivor"); p != "" {
		t.Errorf("a job's process outlived the flow killed with SIGKILL and wrote %s", p)
	}
}

// find returns the first file called name under dir, or "".
func find(dir, name string) string {
	var found string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == name {
			found = p
			return fs.SkipAll
		}
		return nil
	})
	return found
}
