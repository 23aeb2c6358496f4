package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tool that does not capture its stderr still leaves its last lines in
// the record, and flow logs shows them, after the run failed.
func TestLogsShowUncapturedStderr(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "noisy.cwl")
	os.WriteFile(doc, []byte(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo "reading input"; echo "error: no such sample: S7" >&2; exit 3']
inputs: []
outputs: []
`), 0o644)
	db := filepath.Join(dir, "flow.db")
	r := flow(t, "run", "--db", db, "--outdir", filepath.Join(dir, "o"), doc)
	if r.code != 1 || !strings.Contains(r.stderr, "flow run --resume") {
		t.Fatalf("the failed run should say how to resume it: exit %d, %s", r.code, r.stderr)
	}
	run := strings.Fields(r.stderr[strings.Index(r.stderr, "--resume")+len("--resume"):])[0]
	run = strings.TrimSuffix(run, ")")
	logs := flow(t, "logs", "--db", db, run, "main")
	if logs.code != 0 || !strings.Contains(logs.stdout, "error: no such sample: S7") {
		t.Errorf("flow logs does not show the tool's stderr: exit %d\n%s%s", logs.code, logs.stdout, logs.stderr)
	}
}
