package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

const (
	exampleWorkflow = "../../examples/workflows/fasta-stats.cwl"
	exampleInputs   = "../../examples/workflows/fasta-stats.yml"
)

// A member submits with flow run --run_compute --compute_url, follows the
// run over Server-Sent Events to its end, and gets outputs equal to a
// local run's, in --outdir.
func TestSubmitFollowAndDownload(t *testing.T) {
	d := newDaemon(t)
	tok := d.token("genomics", "operator")
	d.start()
	dir := t.TempDir()
	code, local, stderr := flow(t, nil, "run", "--quiet", "--no-provenance", "--outdir", filepath.Join(dir, "local"), exampleWorkflow, exampleInputs)
	if code != 0 {
		t.Fatalf("local run: %s", stderr)
	}
	code, remote, stderr := flow(t, nil, "run", "--run_compute", "--compute_url", d.url, "--compute_access_token", tok,
		"--outdir", filepath.Join(dir, "remote"), exampleWorkflow, exampleInputs)
	if code != 0 {
		t.Fatalf("remote run: exit %d: %s\n%s", code, stderr, d.log.String())
	}
	a, b := testenv.OutputChecksums(t, local), testenv.OutputChecksums(t, remote)
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Errorf("outputs differ:\n local %v\nremote %v", a, b)
	}
	if !strings.Contains(remote, filepath.Join(dir, "remote")) {
		t.Errorf("the output object does not point into --outdir:\n%s", remote)
	}
	for _, want := range []string{"submitted to the daemon", "run RUNNING", "run COMPLETE"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("flow's log does not show %q (events followed over SSE):\n%s", want, stderr)
		}
	}
	if strings.Contains(d.log.String(), tok) {
		t.Error("the daemon's log holds the token")
	}
}

// The daemon commands of flow: runs, status, outputs, cancel, ssh-keys.
func TestDaemonCommandsOfFlow(t *testing.T) {
	d := newDaemon(t)
	tok := d.token("genomics", "admin")
	d.start()
	env := []string{"FLOW_URL=" + d.url, "FLOW_TOKEN=" + tok}
	dir := t.TempDir()
	code, out, stderr := flow(t, env, "run", "--run_compute", "--quiet", "--outdir", filepath.Join(dir, "a"), exampleWorkflow, exampleInputs)
	if code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	code, list, stderr := flow(t, env, "runs", "-o", "json")
	var runs []struct{ ID, State string }
	if json.Unmarshal([]byte(list), &runs); code != 0 || len(runs) != 1 || runs[0].State != "COMPLETE" {
		t.Fatalf("flow runs: %d %s %s", code, list, stderr)
	}
	id := runs[0].ID
	if code, status, _ := flow(t, env, "status", id); code != 0 || !strings.Contains(status, "COMPLETE") {
		t.Errorf("flow status: %d %s", code, status)
	}
	code, again, stderr := flow(t, env, "outputs", id, "--outdir", filepath.Join(dir, "b"))
	if code != 0 || !reflect.DeepEqual(testenv.OutputChecksums(t, out), testenv.OutputChecksums(t, again)) {
		t.Errorf("flow outputs: %d %s\n%s", code, stderr, again)
	}
	if code, show, stderr := flow(t, env, "show", id); code != 0 || !strings.Contains(show, "COMPLETE") || !strings.Contains(show, "main/stats") {
		t.Errorf("flow show against the daemon: %d %s %s", code, show, stderr)
	}
	if code, logs, stderr := flow(t, env, "logs", id); code != 0 || !strings.Contains(logs, "main/") {
		t.Errorf("flow logs against the daemon: %d %s %s", code, logs, stderr)
	}
	if status, prov := d.request("GET", "/api/v1/runs/"+id+"/provenance", tok, nil, ""); status != 200 || !strings.Contains(string(prov), "wasGeneratedBy") {
		t.Errorf("provenance: %d %.300s", status, prov)
	}
	if code, key, stderr := flow(t, env, "ssh-keys", "keygen", "--name", "hpc1"); code != 0 || !strings.HasPrefix(key, "ssh-ed25519 ") {
		t.Errorf("flow ssh-keys keygen: %d %s %s", code, key, stderr)
	}
	if code, _, stderr := flow(t, env, "cancel", "no-such-run"); code == 0 || !strings.Contains(stderr, "404") {
		t.Errorf("flow cancel of an unknown run: %d %s", code, stderr)
	}
}

// A workflow registered once runs by name, with only its inputs.
func TestRegisteredWorkflowRunsByName(t *testing.T) {
	d := newDaemon(t)
	tok := d.token("genomics", "operator")
	d.start()
	env := []string{"FLOW_URL=" + d.url, "FLOW_TOKEN=" + tok}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "wf.cwl"), []byte(threeSteps), 0o644)
	os.WriteFile(filepath.Join(dir, "step.cwl"), []byte(strings.ReplaceAll(oneStep, "sleep 1; ", "")), 0o644)
	if code, out, stderr := flow(t, env, "workflows", "register", "steps", "1.0", filepath.Join(dir, "wf.cwl")); code != 0 {
		t.Fatalf("register: %s %s", out, stderr)
	}
	if code, out, _ := flow(t, env, "workflows", "list"); code != 0 || !strings.Contains(out, "steps") || !strings.Contains(out, "1.0") {
		t.Errorf("list: %s", out)
	}
	code, out, stderr := flow(t, env, "workflows", "trigger", "steps", "-i", "seed=7", "-f")
	if code != 0 || !strings.Contains(out, "COMPLETE") {
		t.Fatalf("trigger: %d %s %s\n%s", code, out, stderr, d.log.String())
	}
	if code, _, stderr := flow(t, env, "workflows", "trigger", "no-such-workflow"); code == 0 || !strings.Contains(stderr, "404") {
		t.Errorf("an unknown workflow: %d %s", code, stderr)
	}
	// The registered files and the triggered run are the team's.
	team := filepath.Join(d.dataDir, "teams", "genomics")
	if m, _ := filepath.Glob(filepath.Join(team, "workflows", "steps", "1.0", "*", "wf.cwl")); len(m) != 1 {
		t.Error("the registered workflow is not in the team's directory")
	}
	if m, _ := filepath.Glob(filepath.Join(team, "runs", "*", "outputs", "out.txt")); len(m) != 1 {
		t.Error("the triggered run's outputs are not in the team's directory")
	}
	for _, shared := range []string{"runs", "workflows", "flow.db"} {
		if _, err := os.Stat(filepath.Join(d.dataDir, shared)); err == nil {
			t.Errorf("data_dir/%s exists", shared)
		}
	}
}
