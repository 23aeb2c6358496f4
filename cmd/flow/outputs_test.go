package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/testenv"
)

const reportTool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs: {msg: {type: string, inputBinding: {}}}
stdout: report.tsv
outputs: {report: stdout}
`

// listNames lists the names in dir, sorted.
func listNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// A re-run into the same --outdir replaces the earlier run's report.tsv,
// as cwltool does, instead of adding report.tsv_2 beside it.
func TestRerunReplacesOutputOfTheSameName(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "report.cwl"), reportTool)
	out := filepath.Join(dir, "results")
	env := []string{"XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	for _, msg := range []string{"first", "second"} {
		if r := flowEnv(t, env, "run", "--quiet", "--outdir", out, filepath.Join(dir, "report.cwl"), "--msg", msg); r.code != 0 {
			t.Fatalf("flow run --msg %s: exit %d\n%s", msg, r.code, r.stderr)
		}
	}
	if names := listNames(t, out); strings.Join(names, " ") != "report.tsv" {
		t.Errorf("results holds %v, want only report.tsv", names)
	}
	if got := readFile(t, filepath.Join(out, "report.tsv")); got != "second\n" {
		t.Errorf("report.tsv holds %q, want the second run's %q", got, "second\n")
	}
}

// Outputs of one run that share a name get distinct names (_2, as cwltool
// does), and running it again replaces them rather than adding more.
func TestScatterOutputsOfOneNameStayDistinctAcrossReruns(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "report.cwl"), reportTool)
	writeFile(t, filepath.Join(dir, "wf.cwl"), `cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  msgs: string[]
steps:
  s:
    run: report.cwl
    scatter: msg
    in: {msg: msgs}
    out: [report]
outputs:
  reports: {type: "File[]", outputSource: s/report}
`)
	writeFile(t, filepath.Join(dir, "job.yml"), "msgs: [a, b]\n")
	out := filepath.Join(dir, "results")
	env := []string{"XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	for i := 0; i < 2; i++ {
		if r := flowEnv(t, env, "run", "--quiet", "--outdir", out, filepath.Join(dir, "wf.cwl"), filepath.Join(dir, "job.yml")); r.code != 0 {
			t.Fatalf("flow run: exit %d\n%s", r.code, r.stderr)
		}
	}
	if names := listNames(t, out); strings.Join(names, " ") != "report.tsv report.tsv_2" {
		t.Errorf("results holds %v after two runs, want report.tsv report.tsv_2", names)
	}
	got := readFile(t, filepath.Join(out, "report.tsv")) + readFile(t, filepath.Join(out, "report.tsv_2"))
	if got != "a\nb\n" {
		t.Errorf("the two reports hold %q, want a and b", got)
	}
}

// An output never replaces a file that is an input of its run: the run
// fails with one line naming both, and the input keeps its bytes.
func TestOutputNeverReplacesAnInput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cat.cwl"), `cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs: {in: {type: File, inputBinding: {}}}
stdout: report.tsv
outputs: {report: stdout}
`)
	out := filepath.Join(dir, "results")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(out, "report.tsv")
	writeFile(t, input, "precious\n")
	env := []string{"XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	r := flowEnv(t, env, "run", "--quiet", "--outdir", out, filepath.Join(dir, "cat.cwl"), "--in", input)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	lines := stderrLines(r.stderr)
	if len(lines) != 1 || strings.Count(lines[0], input) < 2 || !strings.Contains(lines[0], "input") {
		t.Errorf("want one line naming the output and the input %s, got:\n%s", input, r.stderr)
	}
	if got := readFile(t, input); got != "precious\n" {
		t.Errorf("the input now holds %q", got)
	}
	if names := listNames(t, out); strings.Join(names, " ") != "report.tsv" {
		t.Errorf("results holds %v, want only the input", names)
	}
}

// On a full disk an output fails to be written and nothing in --outdir
// looks like it: no partial report, no temporary file left behind.
func TestFullDiskLeavesNoPartialOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "small")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", out).Run(); err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("cannot mount a small tmpfs (%v)", err))
	}
	defer exec.Command("umount", out).Run()
	writeFile(t, filepath.Join(dir, "big.cwl"), `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [head, -c, "3000000", /dev/zero]
inputs: []
stdout: big.dat
outputs: {big: stdout}
`)
	env := []string{"XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	r := flowEnv(t, env, "run", "--quiet", "--tmpdir-prefix", filepath.Join(dir, "tmp"), "--outdir", out, filepath.Join(dir, "big.cwl"))
	if r.code != 1 {
		t.Fatalf("writing 3 MB into a 1 MB file system: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if lines := stderrLines(r.stderr); len(lines) != 1 || !strings.Contains(lines[0], "no space left") {
		t.Errorf("want one line saying the disk is full, got:\n%s", r.stderr)
	}
	if names := listNames(t, out); len(names) != 0 {
		t.Errorf("the full output directory holds %v, want nothing", names)
	}
}

// File inputs that are not regular files are refused before anything
// runs: reading /dev/zero or a FIFO would never end.
func TestSpecialFileInputsAreRefused(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cat.cwl"), `cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs: {in: {type: File, inputBinding: {}}}
outputs: {}
`)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for in, kind := range map[string]string{"/dev/zero": "character device", fifo: "FIFO"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, flowBin, "run", "--quiet", "--outdir", filepath.Join(dir, "out"), filepath.Join(dir, "cat.cwl"), "--in", in)
		cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "data"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		_ = cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		if timedOut {
			t.Errorf("--in %s: flow was still running after 30s", in)
			continue
		}
		r := result{code: cmd.ProcessState.ExitCode(), stderr: stderr.String()}
		if r.code != 1 {
			t.Errorf("--in %s: exit %d, want 1\n%s", in, r.code, r.stderr)
		}
		if lines := stderrLines(r.stderr); len(lines) != 1 || !strings.Contains(lines[0], in) || !strings.Contains(lines[0], kind) {
			t.Errorf("--in %s: want one line naming it a %s, got:\n%s", in, kind, r.stderr)
		}
	}
}

// Ctrl-C while flow hashes a large input (for the step cache) stops the
// run: exit 130, and its record says cancelled.
func TestInterruptWhileHashingAnInput(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.dat")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: it takes no space, but hashing reads all 1 TB of zeros.
	if err := f.Truncate(1 << 40); err != nil {
		f.Close()
		t.Skipf("cannot make a sparse 1 TB file here: %v", err)
	}
	f.Close()
	writeFile(t, filepath.Join(dir, "wc.cwl"), `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [wc, -c]
inputs: {in: {type: File, inputBinding: {}}}
outputs: {}
`)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		interruptHashing(t, dir, big, sig)
	}
}

// interruptHashing starts a run on big, sends sig once flow has big open
// and checks how the run ends.
func interruptHashing(t *testing.T, dir, big string, sig os.Signal) {
	db := filepath.Join(dir, "flow.db")
	env := []string{"XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	cmd := exec.Command(flowBin, "run", "--quiet", "--db", db, "--outdir", filepath.Join(dir, "out"), filepath.Join(dir, "wc.cwl"), "--in", big)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if !waitForOpen(cmd.Process.Pid, big, 30*time.Second) {
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("flow never opened %s to hash it\n%s", big, stderr.String())
	}
	start := time.Now()
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("flow did not stop within 30s of %v while hashing", sig)
	}
	t.Logf("flow stopped %v after %v while hashing", time.Since(start), sig)
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("%v: exit code %d, want 130\n%s", sig, code, stderr.String())
	}
	r := flowEnv(t, env, "runs", "--db", db, "-n", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "cancelled") {
		t.Errorf("%v: flow runs should list the run as cancelled, got exit %d:\n%s%s", sig, r.code, r.stdout, r.stderr)
	}
}

// A Directory input with two symlink loops, a link out of its tree and a
// FIFO, listed deep and hashed for the step cache, is walked once and
// the FIFO is not waited on: the run finishes.
func TestDirectoryInputWithSymlinkLoops(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "a", "b", "f.txt"), "x\n")
	if err := syscall.Mkfifo(filepath.Join(root, "a", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"a/up": root, "a/b/again": filepath.Join(root, "a"), "usr": "/usr"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "ls.cwl"), `cwlVersion: v1.2
class: CommandLineTool
baseCommand: "true"
inputs: {d: {type: Directory, loadListing: deep_listing}}
outputs: {}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, flowBin, "run", "--quiet", "--outdir", filepath.Join(dir, "out"), filepath.Join(dir, "ls.cwl"), "--d", root)
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatal("flow was still walking or hashing the directory after 60s")
	}
	if err != nil {
		t.Fatalf("flow run: %v\n%s", err, out)
	}
}

// waitForOpen waits until process pid has path open.
func waitForOpen(pid int, path string, limit time.Duration) bool {
	fdDir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ents, _ := os.ReadDir(fdDir)
		for _, e := range ents {
			if l, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && l == path {
				return true
			}
		}
	}
	return false
}
