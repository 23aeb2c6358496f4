package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// --run-id names the run; the same command again finds it finished and
// prints its outputs without running anything.
func TestRunIDStartsThenRepeatsARun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "flow.db")
	wf, job := "../../examples/workflows/fasta-stats.cwl", "../../examples/workflows/fasta-stats.yml"
	args := []string{"run", "--run-id", "20261121T000000.000Z-daemon", "--db", db, "--outdir", filepath.Join(dir, "out"), wf, job}
	first := flow(t, args...)
	if first.code != 0 {
		t.Fatalf("exit %d: %s", first.code, first.stderr)
	}
	runs := flow(t, "runs", "--db", db, "-o", "json")
	var list []struct{ ID string }
	if err := json.Unmarshal([]byte(runs.stdout), &list); err != nil || len(list) != 1 || list[0].ID != "20261121T000000.000Z-daemon" {
		t.Fatalf("flow runs: %v %s", err, runs.stdout)
	}
	again := flow(t, args...)
	if again.code != 0 {
		t.Fatalf("again: exit %d: %s", again.code, again.stderr)
	}
	var a, b map[string]any
	json.Unmarshal([]byte(first.stdout), &a)
	json.Unmarshal([]byte(again.stdout), &b)
	if len(a) == 0 || !strings.Contains(again.stdout, `"checksum"`) || len(a) != len(b) {
		t.Errorf("the repeated command printed other outputs:\n%s\nvs\n%s", first.stdout, again.stdout)
	}
	if strings.Contains(again.stderr, "starting") || strings.Contains(again.stderr, "reused") {
		t.Errorf("the repeated command ran steps: %s", again.stderr)
	}
}
