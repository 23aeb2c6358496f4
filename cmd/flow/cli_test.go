package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/schema"
)

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		args                         []string
		flowArgs, positional, inputs []string
	}{
		{
			args:     []string{"--outdir=/o", "--quiet", "tool.cwl", "job.yml"},
			flowArgs: []string{"--outdir=/o", "--quiet"}, positional: []string{"tool.cwl", "job.yml"},
		},
		{
			// flags after the positionals, with a separate value
			args:     []string{"wf.cwl", "in.yml", "--outdir", "results/", "--parallel", "4"},
			flowArgs: []string{"--outdir", "results/", "--parallel", "4"}, positional: []string{"wf.cwl", "in.yml"},
		},
		{
			// unknown flags after the document are inputs, with their values
			args:       []string{"tool.cwl", "--msg", "hello world", "--files", "a", "b", "--quiet", "--loud"},
			flowArgs:   []string{"--quiet"},
			positional: []string{"tool.cwl"},
			inputs:     []string{"--msg", "hello world", "--files", "a", "b", "--loud"},
		},
		{
			// negative numbers are values; after "--" even flow's flag names are inputs
			args:       []string{"tool.cwl", "--n", "-3", "--", "--quiet", "x"},
			positional: []string{"tool.cwl"},
			inputs:     []string{"--n", "-3", "--quiet", "x"},
		},
		{
			// an unknown flag before the document is left for the flag package to reject
			args: []string{"--bogus", "tool.cwl"}, flowArgs: []string{"--bogus"}, positional: []string{"tool.cwl"},
		},
	}
	for _, c := range cases {
		var o runOptions
		fs := newRunFlags(&o, io.Discard)
		f, p, in := splitArgs(fs, c.args)
		if !reflect.DeepEqual(f, c.flowArgs) || !reflect.DeepEqual(p, c.positional) || !reflect.DeepEqual(in, c.inputs) {
			t.Errorf("splitArgs(%q):\n flow %q, want %q\n positional %q, want %q\n inputs %q, want %q",
				c.args, f, c.flowArgs, p, c.positional, in, c.inputs)
		}
	}
}

func TestParseRunArgs(t *testing.T) {
	var o runOptions
	fs := newRunFlags(&o, io.Discard)
	err := parseRunArgs(fs, []string{"--outdir=/tmp/o", "--quiet", "--parallel", "3", "--leave-tmp", "wf.cwl#main", "job.json"}, &o)
	if err != nil {
		t.Fatal(err)
	}
	if o.Outdir != "/tmp/o" || !o.Log.Quiet || o.Parallel != 3 || !o.LeaveTmp || o.Document != "wf.cwl#main" || o.Job != "job.json" {
		t.Errorf("parsed %+v", o)
	}

	for _, args := range [][]string{{}, {"a.cwl", "b.yml", "c.yml"}, {"--parallel", "-1", "a.cwl"}, {"--log-format", "xml", "a.cwl"}} {
		var o runOptions
		err := parseRunArgs(newRunFlags(&o, io.Discard), args, &o)
		var ue *usageError
		if !asUsage(err, &ue) {
			t.Errorf("parseRunArgs(%q) = %v, want a usage error", args, err)
		}
	}
}

func asUsage(err error, ue **usageError) bool {
	u, ok := err.(*usageError)
	*ue = u
	return ok
}

func TestParseInputFlags(t *testing.T) {
	p, err := schema.Load("testdata/good/echo-inputs.cwl")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseInputFlags(p, []string{
		"--name", "Ada", "--count=3", "--loud", "--names", "x", "y", "--names", "z",
		"--ratio", "-0.5", "--mode", "careful", "--reads", "data/r.fq",
	}, "/work")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name": "Ada", "count": int64(3), "loud": true,
		"names": []any{"x", "y", "z"}, "ratio": -0.5, "mode": "careful",
		"reads": map[string]any{"class": "File", "location": "file:///work/data/r.fq"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}

	bad := map[string][]string{
		`there is no input "nme"`:                 {"--nme", "Ada"},
		`"many" is not a whole number`:            {"--count", "many"},
		`"maybe" is not true or false`:            {"--loud=maybe"},
		`"slow" is not one of fast, careful`:      {"--mode", "slow"},
		`expected one value of type string`:       {"--name"},
		`unexpected argument "stray"`:             {"stray"},
		`expected one value of type int, found 2`: {"--count", "1", "2"},
	}
	for msg, args := range bad {
		_, err := parseInputFlags(p, args, "/work")
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("parseInputFlags(%q) = %v, want an error containing %q", args, err, msg)
		}
	}
	if _, err := parseInputFlags(p, []string{"--help"}, "/work"); err != errInputHelp {
		t.Errorf("--help gave %v, want errInputHelp", err)
	}
}

func TestRunValidate(t *testing.T) {
	cases := map[string]string{
		"../../examples/workflows/fasta-stats.cwl":  "../../examples/workflows/fasta-stats.cwl is valid CWL (Workflow, 2 steps)\n",
		"../../examples/workflows/corpus-words.cwl": "../../examples/workflows/corpus-words.cwl is valid CWL (Workflow, 2 steps)\n",
		"testdata/good/hello.cwl":                   "testdata/good/hello.cwl is valid CWL (CommandLineTool)\n",
	}
	for doc, want := range cases {
		var out bytes.Buffer
		if err := runValidate(doc, &out); err != nil {
			t.Errorf("validate %s: %v", doc, err)
		} else if out.String() != want {
			t.Errorf("validate %s printed %q, want %q", doc, out.String(), want)
		}
	}
	if err := runValidate("testdata/bad/cycle.cwl", io.Discard); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("validate of a cycle = %v, want an error about the cycle", err)
	}
}

func TestRunGraph(t *testing.T) {
	doc := "../../examples/workflows/read-filter.cwl"
	var dot, mermaid bytes.Buffer
	if err := runGraph(doc, "dot", &dot); err != nil {
		t.Fatal(err)
	}
	if err := runGraph(doc, "mermaid", &mermaid); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"drop_ambiguous", "trim_at_n", "count"} {
		if !strings.Contains(dot.String(), `"`+step+`"`) || !strings.Contains(mermaid.String(), step) {
			t.Errorf("the graph does not show step %s:\n%s\n%s", step, dot.String(), mermaid.String())
		}
	}
	if !strings.HasPrefix(dot.String(), "digraph") || !strings.HasPrefix(mermaid.String(), "flowchart") {
		t.Errorf("unexpected graph headers:\n%s\n%s", dot.String(), mermaid.String())
	}
	if err := runGraph("testdata/good/hello.cwl", "dot", io.Discard); err == nil {
		t.Error("graph of a CommandLineTool succeeded; want an error")
	}
	if err := runGraph(doc, "svg", io.Discard); err == nil {
		t.Error("graph --format svg succeeded; want an error")
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		out  string // substring of stdout+stderr
	}{
		{[]string{"version"}, 0, "flow "},
		{[]string{}, 2, "usage: flow"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"validate", "testdata/bad/unknown-requirement.cwl"}, 33, "QuantumComputingRequirement"},
		{[]string{"validate", "testdata/bad/unknown-type.cwl"}, 1, "testdata/bad/unknown-type.cwl:6:"},
		{[]string{"validate", "testdata/good/hello.cwl"}, 0, "is valid CWL"},
		{[]string{"run", "--run_compute", "testdata/good/hello.cwl", "--msg", "hi"}, 1, "no compute configuration"},
		{[]string{"run", "-h"}, 0, "usage: flow run"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		code := run(context.Background(), c.args, &out, &out)
		if code != c.code || !strings.Contains(out.String(), c.out) {
			t.Errorf("flow %q: exit %d, want %d; output %q should contain %q", c.args, code, c.code, out.String(), c.out)
		}
	}
}

// TestInputHelp checks "flow run DOC --help": the document's inputs, as flags.
func TestInputHelp(t *testing.T) {
	var out bytes.Buffer
	err := cmdRun(context.Background(), []string{"testdata/good/echo-inputs.cwl", "--help"}, &out, io.Discard)
	if err != flag.ErrHelp {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"--name string (required)", "--count int (default 1)", "--names string[]?", "--mode fast|careful?"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("input help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunInputFlags runs a document with its inputs given as flags, through
// the binary, and checks the values the process received.
func TestRunInputFlags(t *testing.T) {
	outdir := t.TempDir()
	r := flow(t, "run", "--quiet", "--outdir", outdir, "testdata/good/echo-inputs.cwl",
		"--name", "Ada", "--names", "x", "y", "--loud", "--reads", "testdata/bad/data.txt")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	var out struct {
		Echoed struct {
			Name  string
			Count int
			Loud  bool
			Names []string
			Reads struct{ Basename, Path, Checksum string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not an output object: %v\n%s", err, r.stdout)
	}
	e := out.Echoed
	if e.Name != "Ada" || e.Count != 1 || !e.Loud || !reflect.DeepEqual(e.Names, []string{"x", "y"}) || e.Reads.Basename != "data.txt" {
		t.Errorf("the process received %+v", e)
	}
	if filepath.Dir(e.Reads.Path) != outdir {
		t.Errorf("the File output is at %s, not in --outdir %s", e.Reads.Path, outdir)
	}
}

func TestRunHello(t *testing.T) {
	outdir := t.TempDir()
	r := flow(t, "run", "--outdir", outdir, "testdata/good/hello.cwl", "--msg", "hello, world")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	var out map[string]map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not an output object: %v\n%s", err, r.stdout)
	}
	f := out["out"]
	path := filepath.Join(outdir, "hello.txt")
	if f["basename"] != "hello.txt" || f["path"] != path {
		t.Errorf("output %v, want hello.txt in %s", f, outdir)
	}
	const content = "hello, world\n"
	data, err := os.ReadFile(path)
	if err != nil || string(data) != content {
		t.Errorf("hello.txt holds %q (%v), want %q", data, err, content)
	}
	if want := fmt.Sprintf("sha1$%x", sha1.Sum([]byte(content))); f["checksum"] != want {
		t.Errorf("checksum %v, want %s", f["checksum"], want)
	}
}

// TestInterrupt sends SIGINT to flow while a job runs: flow must stop the
// job, say so in one line and exit with 130.
func TestInterrupt(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	cmd := exec.Command(flowBin, "run", "--quiet", "--outdir", t.TempDir(), "testdata/good/sleep.cwl", "--pidfile", pidfile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := jobPID(t, cmd.Process.Pid, waitForPID(t, pidfile))
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("flow did not exit within 20s of SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit code %d, want 130; stderr:\n%s", code, stderr.String())
	}
	if lines := stderrLines(stderr.String()); len(lines) != 1 || !strings.Contains(lines[0], "interrupted") {
		t.Errorf("stderr should be one line about the interruption:\n%s", stderr.String())
	}
	if err := syscall.Kill(pid, 0); err == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the job (pid %d) still runs after flow exited", pid)
	}
}

// waitForPID waits for the sleeping job to write its pid.
func waitForPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the job did not start within 20s")
	return 0
}

// badValue stands for an engine error about one top-level input.
type badValue struct{ id string }

func (e badValue) Error() string {
	return fmt.Sprintf("input %q expects int, got the text \"x\"", e.id)
}
func (e badValue) InputID() string { return e.id }

// TestRunErrorPlacement checks where run errors point: at the value in the
// job file when the engine names an input that came from there, else at
// the document unless the error has a position already.
func TestRunErrorPlacement(t *testing.T) {
	wd, _ := os.Getwd()
	inJob := map[string]schema.Pos{"n": {File: filepath.Join(wd, "job.yml"), Line: 2, Col: 4}}
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("step %q: %w", "a", badValue{"n"}), `job.yml:2:4: step "a": input "n" expects int`},
		{badValue{"m"}, `wf.cwl: input "m" expects int`}, // given by a flag, or missing
		{fmt.Errorf("/x/tool.cwl:3:5: input %q is required", "m"), "/x/tool.cwl:3:5: input"},
		{&schema.Error{Pos: schema.Pos{File: filepath.Join(wd, "t.cwl"), Line: 1, Col: 1}, Msg: "bad"}, "t.cwl:1:1: bad"},
	}
	for _, c := range cases {
		got := message(runError("wf.cwl#main", inJob, c.err))
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("runError(%v) reads %q, want it to start with %q", c.err, got, c.want)
		}
	}
}
