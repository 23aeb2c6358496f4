package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// threeSteps is a workflow of three one-second steps, one after another.
const threeSteps = `cwlVersion: v1.2
class: Workflow
inputs:
  seed: int
outputs:
  out: {type: File, outputSource: c/out}
steps:
  a: {run: step.cwl, in: {seed: seed, name: {default: a}}, out: [out]}
  b: {run: step.cwl, in: {seed: seed, name: {default: b}, prev: a/out}, out: [out]}
  c: {run: step.cwl, in: {seed: seed, name: {default: c}, prev: b/out}, out: [out]}
`

const oneStep = `cwlVersion: v1.2
class: CommandLineTool
requirements: {ShellCommandRequirement: {}}
inputs:
  seed: int
  name: string
  prev: File?
arguments:
  - {valueFrom: "sleep 1; echo $(inputs.seed) $(inputs.name) > out.txt", shellQuote: false}
outputs:
  out: {type: File, outputBinding: {glob: out.txt}}
`

func submitThreeSteps(d *daemon, token string, seed int) string {
	return d.submit(token, form{
		fields: [][2]string{{"workflow_url", "wf.cwl"}, {"workflow_params", fmt.Sprintf(`{"seed": %d}`, seed)}},
		files:  [][2]string{{"wf.cwl", threeSteps}, {"step.cwl", oneStep}},
	})
}

// flowd is killed with SIGKILL while one run is running and others wait;
// started again, it completes every run, and no step that had finished
// runs a second time.
func TestKilledDaemonContinuesEveryRun(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "flowd.yaml")
	os.WriteFile(cfg, []byte("max_running: 1\n"), 0o600)
	d := newDaemon(t, "--config", cfg)
	tok := d.token("genomics", "operator")
	d.start()
	var ids []string
	for i := range 3 { // different inputs: no run can reuse another's steps
		ids = append(ids, submitThreeSteps(d, tok, i))
	}
	time.Sleep(1500 * time.Millisecond) // the first run is in its second step
	_, resp := d.request("GET", "/api/v1/runs/"+ids[0], tok, nil, "")
	d.kill()
	var first struct{ State string }
	if json.Unmarshal(resp, &first); first.State != "RUNNING" {
		t.Fatalf("the first run is %s, not running, when the daemon is killed", first.State)
	}
	d.start()
	for _, id := range ids {
		if st := d.waitState(tok, id, 60*time.Second); st != "COMPLETE" {
			t.Errorf("run %s ended %s\n%s", id, st, d.log.String())
		}
	}
	d.stop()
	// Count, from the team's provenance, how often each job ran.
	var resumedSteps int
	for i, id := range ids {
		code, out, stderr := flow(t, nil, "show", id, "--db", filepath.Join(d.dataDir, "teams", "genomics", "flow.db"), "-o", "json")
		if code != 0 {
			t.Fatalf("flow show: %s", stderr)
		}
		var rec struct {
			Steps []struct{ Job, State string }
		}
		json.Unmarshal([]byte(out), &rec)
		ran := map[string]int{}
		for _, s := range rec.Steps {
			if s.State == "succeeded" {
				ran[s.Job]++
			}
			if s.State == "reused" && i == 0 {
				resumedSteps++
			}
		}
		t.Logf("run %d: %+v", i, rec.Steps)
		for job, n := range ran {
			if n > 1 {
				t.Errorf("run %s: job %s ran %d times", id, job, n)
			}
		}
		if len(ran)+countReused(rec.Steps) < 3 {
			t.Errorf("run %s: steps %+v", id, rec.Steps)
		}
	}
	if resumedSteps == 0 {
		t.Error("the first run took no finished step from before the kill: it was not interrupted mid-way, or it started over")
	}
}

func countReused(steps []struct{ Job, State string }) int {
	n := 0
	for _, s := range steps {
		if s.State == "reused" {
			n++
		}
	}
	return n
}
