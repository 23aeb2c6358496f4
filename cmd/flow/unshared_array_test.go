package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/testcluster"
)

// scatterWorkflow writes a workflow that scatters a tool reading one shared
// input file over n integers, and its job file.
func scatterWorkflow(t *testing.T, dir string, n int) (wf, job string) {
	t.Helper()
	wf = filepath.Join(dir, "scatter.cwl")
	writeFile(t, wf, `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs: {n: "int[]", f: File}
outputs: {out: {type: "File[]", outputSource: tag/out}}
steps:
  tag:
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'cat "$0"; echo "$1"']
      inputs: {f: {type: File, inputBinding: {position: 1}}, n: {type: int, inputBinding: {position: 2}}}
      outputs: {out: stdout}
    scatter: n
    in: {n: n, f: f}
    out: [out]
`)
	writeFile(t, filepath.Join(dir, "in.txt"), "shared input\n")
	ns := make([]string, n)
	for i := range ns {
		ns[i] = fmt.Sprint(i)
	}
	job = filepath.Join(dir, "job.json")
	writeFile(t, job, `{"f": {"class": "File", "path": "in.txt"}, "n": [`+strings.Join(ns, ",")+`]}`)
	return wf, job
}

// waitEndedJobs waits until slurmctld has logged n ended jobs under dir
// (it writes the completion log a moment after a job ends).
func waitEndedJobs(t *testing.T, c *testcluster.Cluster, dir string, n int) []testcluster.Job {
	t.Helper()
	for try := 0; ; try++ {
		jobs, err := c.EndedJobs(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) >= n || try == 300 {
			return jobs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// On a cluster that does not share flow's file system, reached through
// an sshd with OpenSSH's default MaxSessions, a 200-way scatter stages its
// inputs together and goes to Slurm as one job array (two at most, should
// the engine's starts straddle a batch), counted from slurmctld's own log.
func TestUnsharedScatterIsOneArrayJob(t *testing.T) {
	c := testcluster.Require(t)
	cfg, workdir := unsharedConfig(t, c)
	dir := t.TempDir()
	wf, job := scatterWorkflow(t, dir, 200)
	r := flow(t, "run", "--quiet", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--outdir", filepath.Join(dir, "out"), wf, job)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct{ Out []struct{ Path string } }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got.Out) != 200 {
		t.Fatalf("output object (%v): %.300s", err, r.stdout)
	}
	for i, f := range got.Out {
		if text := readFile(t, f.Path); text != fmt.Sprintf("shared input\n%d\n", i) {
			t.Errorf("output %d: %q", i, text)
		}
	}
	jobs := waitEndedJobs(t, c, workdir, 200)
	if len(jobs) != 200 {
		t.Errorf("slurmctld logged %d ended jobs in %s, want 200", len(jobs), workdir)
	}
	if n := testcluster.Submissions(jobs); n < 1 || n > 2 {
		t.Errorf("the 200-way scatter took %d sbatch calls, want 1 or 2 (job arrays)", n)
	}
}
