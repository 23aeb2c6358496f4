package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/testcluster"
	"github.com/flow-cwl/flow/provenance"
)

// flow is killed (-9) while a 50-way scatter runs on a cluster without a
// shared file system; `flow run --resume RUN`, with no other flag, finds
// the cluster and its compute configuration in the run's record,
// re-attaches to all 50 jobs and submits none: each job ran once, and
// slurmctld saw no submission besides the first run's.
func TestResumeOnUnsharedClusterReattachesEveryJob(t *testing.T) {
	c := testcluster.Require(t)
	cfg, workdir := unsharedConfig(t, c)
	dir := t.TempDir()
	env := []string{"XDG_DATA_HOME=" + filepath.Join(dir, "data")} // the default database, not --db
	marks := filepath.Join(workdir, "marks")
	wf := filepath.Join(dir, "slow.cwl")
	writeFile(t, wf, `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs: {n: "int[]", marks: string}
outputs: {out: {type: "File[]", outputSource: slow/out}}
steps:
  slow:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'mkdir -p "$0" && echo ran >> "$0/$1" && sleep 3 && echo "$1"']
      inputs: {marks: {type: string, inputBinding: {position: 1}}, n: {type: int, inputBinding: {position: 2}}}
      outputs: {out: stdout}
    scatter: n
    in: {n: n, marks: marks}
    out: [out]
`)
	ns := make([]string, 50)
	for i := range ns {
		ns[i] = fmt.Sprint(i)
	}
	job := filepath.Join(dir, "job.json")
	writeFile(t, job, fmt.Sprintf(`{"marks": %q, "n": [%s]}`, marks, strings.Join(ns, ",")))

	cmd := exec.Command(flowBin, "run", "--quiet", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--outdir", filepath.Join(dir, "out"), wf, job)
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "data", "flow", "flow.db")
	runID, before := waitForSubmittedJobs(t, db, 50)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	r := flowEnv(t, env, "run", "--quiet", "--resume", runID)
	if r.code != 0 {
		t.Fatalf("resume: exit %d: %s", r.code, r.stderr)
	}
	var got struct{ Out []struct{ Path string } }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got.Out) != 50 {
		t.Fatalf("output object (%v): %.300s", err, r.stdout)
	}
	for i, f := range got.Out {
		if text := readFile(t, f.Path); text != fmt.Sprintf("%d\n", i) {
			t.Errorf("output %d: %q", i, text)
		}
	}
	for i := range 50 {
		if text, err := os.ReadFile(filepath.Join(marks, fmt.Sprint(i))); err != nil || string(text) != "ran\n" {
			t.Errorf("job %d ran %d times (%v); the resumed run should have re-attached to it", i, strings.Count(string(text), "ran"), err)
		}
	}
	jobs := waitEndedJobs(t, c, workdir, 50)
	for _, j := range jobs {
		if !before[j.Submission()] {
			t.Errorf("slurmctld ran job %s (submission %s), which the first run had not submitted: the resume submitted again", j.JobID, j.Submission())
		}
	}
}

// waitForSubmittedJobs waits until the run records n jobs as submitted,
// and returns the run and its submissions (array ids).
func waitForSubmittedJobs(t *testing.T, db string, n int) (runID string, submissions map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		s, err := provenance.Open(db, provenance.Options{Timeout: time.Second})
		if err != nil {
			continue
		}
		runs, _ := s.ListRuns(context.Background(), 1, "")
		if len(runs) == 1 {
			atts, _ := s.Attempts(context.Background(), runs[0].ID)
			subs := map[string]bool{}
			count := 0
			for _, a := range atts {
				if a.State == provenance.StepRunning && a.JobID != "" {
					count++
					id, _, _ := strings.Cut(a.JobID, "_")
					subs[id] = true
				}
			}
			if count == n {
				s.Close()
				return runs[0].ID, subs
			}
		}
		s.Close()
	}
	t.Fatalf("the run did not record %d jobs as submitted", n)
	return "", nil
}

// A resumed cluster run whose compute configuration is gone says which
// file is missing; one whose file changed since says so, and resumes.
func TestResumeNamesAComputeConfigurationGoneOrChanged(t *testing.T) {
	c := testcluster.Require(t)
	cfg := computeConfig(t, c)
	dir := t.TempDir()
	env := []string{"XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	tool := filepath.Join(dir, "flaky.cwl")
	flag := filepath.Join(dir, "ok")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'test -e "$0" && echo done']
inputs: {flag: {type: string, inputBinding: {}}}
outputs: {out: stdout}
`)
	r := flowEnv(t, env, "run", "--quiet", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--outdir", filepath.Join(dir, "out"), tool, "--flag", flag)
	if r.code == 0 {
		t.Fatal("the first run should have failed (its flag file is missing)")
	}
	s, err := provenance.Open(filepath.Join(dir, "data", "flow", "flow.db"), provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := s.ListRuns(context.Background(), 1, "")
	s.Close()
	if len(runs) != 1 || runs[0].ComputeConfig == nil || runs[0].ComputeConfig.Path != cfg {
		t.Fatalf("the run record does not name its compute configuration %s: %+v", cfg, runs)
	}
	id := runs[0].ID

	moved := cfg + ".moved"
	if err := os.Rename(cfg, moved); err != nil {
		t.Fatal(err)
	}
	r = flowEnv(t, env, "run", "--quiet", "--resume", id)
	if lines := stderrLines(r.stderr); r.code == 0 || len(lines) != 1 || !strings.Contains(lines[0], cfg) || !strings.Contains(lines[0], "gone") {
		t.Errorf("resume with the configuration gone: exit %d, stderr %q; want one line naming %s as gone", r.code, r.stderr, cfg)
	}

	text := readFile(t, moved)
	writeFile(t, cfg, "# edited after the run\n"+text)
	writeFile(t, flag, "")
	r = flowEnv(t, env, "run", "--resume", id)
	if r.code != 0 {
		t.Fatalf("resume with the configuration changed: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, cfg+" has changed") {
		t.Errorf("resume with the configuration changed did not say so: %s", r.stderr)
	}
}
