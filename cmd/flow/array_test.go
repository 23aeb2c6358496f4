package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/testcluster"
)

// A 200-way scatter on the test cluster goes to Slurm as one job array:
// the run's log shows one sbatch, and one squeue per poll for all jobs.
func TestScatterIsOneArrayJob(t *testing.T) {
	c := testcluster.Require(t)
	cfg := computeConfig(t, c)
	dir := t.TempDir()
	wf := filepath.Join(dir, "scatter.cwl")
	os.WriteFile(wf, []byte(`cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs: {n: "int[]"}
outputs: {out: {type: "File[]", outputSource: echo/out}}
steps:
  echo:
    run: {class: CommandLineTool, baseCommand: echo, inputs: {n: {type: int, inputBinding: {}}}, outputs: {out: stdout}}
    scatter: n
    in: {n: n}
    out: [out]
`), 0o644)
	var ns []string
	for i := 0; i < 200; i++ {
		ns = append(ns, fmt.Sprint(i))
	}
	job := filepath.Join(dir, "job.json")
	os.WriteFile(job, []byte(`{"n": [`+strings.Join(ns, ",")+`]}`), 0o644)

	cmd := exec.Command(flowBin, "run", "--debug", "--log-format", "json", "--run_compute", "--cluster", "test",
		"--compute-config", cfg, "--no-provenance", "--outdir", filepath.Join(dir, "out"), wf, job)
	stderr, _ := cmd.StderrPipe()
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	commands := map[string]int{}
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line struct{ Message, Command string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "slurm command" {
			commands[line.Command]++
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("flow run: %v", err)
	}
	took := time.Since(began)
	if commands["sbatch"] != 1 {
		t.Errorf("the scatter took %d sbatch calls, want 1 (one job array); commands: %v", commands["sbatch"], commands)
	}
	// flow polls every 2 s: about as many squeue calls as intervals.
	if limit := int(took.Seconds()/2*1.1) + 2; commands["squeue"] > limit {
		t.Errorf("%d squeue calls in %v; one per 2 s poll would be about %d", commands["squeue"], took, limit)
	}
	outs, _ := filepath.Glob(filepath.Join(dir, "out", "*"))
	if len(outs) != 200 {
		t.Errorf("%d output files, want 200", len(outs))
	}
	t.Logf("200-way scatter on Slurm in %v: %v", took.Round(time.Millisecond), commands)
}
