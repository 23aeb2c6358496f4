package main

import (
	"context"
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

// A flow killed while its Slurm job runs: the resumed run re-attaches to
// that job instead of submitting it again, and collects its output.
func TestResumeReattachesSlurmJobs(t *testing.T) {
	c := testcluster.Require(t)
	cfg := computeConfig(t, c)
	dir := t.TempDir()
	db, counter := filepath.Join(dir, "flow.db"), filepath.Join(dir, "ran")
	tool := filepath.Join(dir, "slow.cwl")
	os.WriteFile(tool, []byte(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'sleep 4; echo ran >> "$0"; echo finished > out.txt']
inputs: {counter: {type: string, inputBinding: {}}}
outputs: {out: {type: File, outputBinding: {glob: out.txt}}}
`), 0o644)
	cmd := exec.Command(flowBin, "run", "--quiet", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--db", db, "--outdir", filepath.Join(dir, "out"), tool, "--counter", counter)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	runID, jobID := waitForSubmittedJob(t, db)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	r := flow(t, "run", "--quiet", "--db", db, "--compute-config", cfg, "--resume", runID)
	if r.code != 0 {
		t.Fatalf("resume: exit %d: %s", r.code, r.stderr)
	}
	if data, _ := os.ReadFile(counter); strings.Count(string(data), "ran") != 1 {
		t.Errorf("the job ran %d times; the resumed run should have re-attached to it", strings.Count(string(data), "ran"))
	}
	if out, err := os.ReadFile(filepath.Join(dir, "out", "out.txt")); err != nil || string(out) != "finished\n" {
		t.Errorf("the re-attached job's output: %q, %v", out, err)
	}
	s, err := provenance.Open(db, provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	atts, _ := s.Attempts(context.Background(), runID)
	last := atts[len(atts)-1]
	if last.State != provenance.StepSucceeded || last.JobID != jobID {
		t.Errorf("the finished attempt is %s with job %q, want succeeded with the first job %q", last.State, last.JobID, jobID)
	}
}

// waitForSubmittedJob waits until the run records a job as submitted.
func waitForSubmittedJob(t *testing.T, db string) (runID, jobID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		s, err := provenance.Open(db, provenance.Options{Timeout: time.Second})
		if err != nil {
			continue
		}
		runs, _ := s.ListRuns(context.Background(), 1, "")
		if len(runs) == 1 {
			atts, _ := s.Attempts(context.Background(), runs[0].ID)
			for _, a := range atts {
				if a.State == provenance.StepRunning && a.JobID != "" {
					s.Close()
					return runs[0].ID, a.JobID
				}
			}
		}
		s.Close()
	}
	t.Fatal("no job was recorded as submitted")
	return "", ""
}
