package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/provenance"
)

// reuseDir copies the reuse workflows into a fresh directory with a
// database, a counter file and an output directory.
type reuseDir struct {
	dir, db, counter string
}

func newReuseDir(t *testing.T) reuseDir {
	t.Helper()
	d := reuseDir{dir: t.TempDir()}
	d.db, d.counter = filepath.Join(d.dir, "flow.db"), filepath.Join(d.dir, "counter")
	for _, f := range []string{"step.cwl", "fan.cwl", "chain.cwl"} {
		data, err := os.ReadFile(filepath.Join("testdata", "reuse", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d.dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(filepath.Join(d.dir, "step.cwl"))
	if err := os.WriteFile(filepath.Join(d.dir, "step-b.cwl"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// ran counts how often each step appended to the counter file.
func (d reuseDir) ran(t *testing.T) map[string]int {
	t.Helper()
	data, err := os.ReadFile(d.counter)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, l := range strings.Fields(string(data)) {
		n[l]++
	}
	return n
}

func (d reuseDir) run(t *testing.T, wf, outdir string, extra ...string) result {
	t.Helper()
	args := append([]string{"run", "--quiet", "--db", d.db, "--outdir", outdir}, extra...)
	args = append(args, filepath.Join(d.dir, wf), "--counter", d.counter)
	r := flow(t, args...)
	if r.code != 0 {
		t.Fatalf("flow run %s: exit %d: %s", wf, r.code, r.stderr)
	}
	return r
}

func outputSums(t *testing.T, stdout string) map[string]string {
	t.Helper()
	var out map[string]map[string]any
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	sums := map[string]string{}
	for k, f := range out {
		sums[k], _ = f["checksum"].(string)
	}
	return sums
}

func TestRerunReusesEveryStep(t *testing.T) {
	d := newReuseDir(t)
	first := d.run(t, "chain.cwl", filepath.Join(d.dir, "o1"))
	again := d.run(t, "chain.cwl", filepath.Join(d.dir, "o2"))
	if got := d.ran(t); len(got) != 4 || got["a"] != 1 || got["b"] != 1 || got["c"] != 1 || got["d"] != 1 {
		t.Errorf("every step should have run once over both runs, counter says %v", got)
	}
	if a, b := outputSums(t, first.stdout), outputSums(t, again.stdout); a["c"] != b["c"] || a["d"] != b["d"] {
		t.Errorf("the reused run's outputs differ: %v vs %v", a, b)
	}
	d.run(t, "chain.cwl", filepath.Join(d.dir, "o3"), "--no-cache")
	if got := d.ran(t); got["a"] != 2 || got["d"] != 2 {
		t.Errorf("--no-cache should run every step again, counter says %v", got)
	}
}

func TestEditingOneStepRerunsItAndWhatFollows(t *testing.T) {
	d := newReuseDir(t)
	d.run(t, "chain.cwl", filepath.Join(d.dir, "o1"))
	b := filepath.Join(d.dir, "step-b.cwl")
	data, _ := os.ReadFile(b)
	edited := strings.Replace(string(data), `echo "$1" >> out.txt`, `echo "$1 (edited)" >> out.txt`, 1)
	if edited == string(data) {
		t.Fatal("the edit did not apply")
	}
	os.WriteFile(b, []byte(edited), 0o644)
	d.run(t, "chain.cwl", filepath.Join(d.dir, "o2"))
	want := map[string]int{"a": 1, "b": 2, "c": 2, "d": 1}
	if got := d.ran(t); !equalCounts(got, want) {
		t.Errorf("after editing b: ran %v, want %v (b and its descendant c again, a and d reused)", got, want)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestKillAndResume kills flow with SIGKILL in the middle of a run, then
// resumes the run: it completes, no step recorded as finished runs again,
// and the outputs equal those of an uninterrupted run.
func TestKillAndResume(t *testing.T) {
	d := newReuseDir(t)
	cmd := exec.Command(flowBin, "run", "--quiet", "--db", d.db, "--parallel", "2",
		"--outdir", filepath.Join(d.dir, "o1"), filepath.Join(d.dir, "fan.cwl"),
		"--counter", d.counter, "--delay", "0.4")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for total(d.ran(t)) < 3 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the run made no progress")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	time.Sleep(200 * time.Millisecond) // let the killed jobs go
	runID, done := finishedJobs(t, d.db)
	if len(done) == 0 || len(done) >= 7 {
		t.Fatalf("the kill should land mid-run; %d steps were recorded as finished", len(done))
	}
	before := d.ran(t)

	r := flow(t, "run", "--quiet", "--db", d.db, "--resume", runID)
	if r.code != 0 {
		t.Fatalf("resume: exit %d: %s", r.code, r.stderr)
	}
	after := d.ran(t)
	for _, step := range done {
		if after[step] != before[step] {
			t.Errorf("step %s had finished before the kill but ran again on resume (%d → %d)", step, before[step], after[step])
		}
	}
	for _, s := range []string{"s1", "s2", "s3", "s4", "s5", "s6", "last"} {
		if after[s] == 0 {
			t.Errorf("step %s never ran", s)
		}
	}
	d2 := newReuseDir(t)
	clean := d2.run(t, "fan.cwl", filepath.Join(d2.dir, "o"))
	if a, b := outputSums(t, clean.stdout)["all"], outputSums(t, r.stdout)["all"]; a != b || a == "" {
		t.Errorf("resumed output %s differs from an uninterrupted run's %s", b, a)
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// finishedJobs reads the newest run and the steps it recorded as finished.
func finishedJobs(t *testing.T, db string) (string, []string) {
	t.Helper()
	s, err := provenance.Open(db, provenance.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("the database does not open after a kill: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	runs, err := s.ListRuns(ctx, 1, "")
	if err != nil || len(runs) != 1 {
		t.Fatalf("no run recorded: %v", err)
	}
	atts, err := s.Attempts(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var done []string
	for _, a := range atts {
		if a.State == provenance.StepSucceeded {
			done = append(done, a.StepID)
		}
	}
	sort.Strings(done)
	return runs[0].ID, done
}
