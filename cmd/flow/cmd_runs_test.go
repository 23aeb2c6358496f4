package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/provenance"
)

func TestRunsTable(t *testing.T) {
	f := newFixture(t)
	r := flowIn(t, "runs", "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and 3 runs, got:\n%s", r.stdout)
	}
	want := [][]string{
		{"RUN", "WORKFLOW", "STATE", "STARTED", "DURATION"},
		{r3, "corpus-words.cwl", "running", formatTime(f.t0.Add(25 * time.Hour)), "-"},
		{r2, "read-filter.cwl#main", "failed", formatTime(f.t0.Add(24 * time.Hour)), "1.2s"},
		{r1, "fasta-stats.cwl", "succeeded", formatTime(f.t0), "3m4s"},
	}
	// Columns are aligned: each starts at the same offset on every line.
	col := strings.Index(lines[0], "STATE")
	for i, line := range lines {
		for _, cell := range want[i] {
			if !strings.Contains(line, cell) {
				t.Errorf("line %d %q lacks %q", i, line, cell)
			}
		}
		if strings.Index(line, want[i][2]) != col {
			t.Errorf("line %d %q: STATE column not aligned at %d", i, line, col)
		}
	}
}

func TestRunsLimitAndJSON(t *testing.T) {
	f := newFixture(t)
	r := flowIn(t, "runs", "-o", "json", "-n", "2", "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var runs []provenance.Run
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if len(runs) != 2 || runs[0].ID != r3 || runs[1].ID != r2 {
		t.Errorf("flow runs -n 2 -o json gave %d runs %+v, want %s then %s", len(runs), runs, r3, r2)
	}
	if !strings.Contains(r.stdout, `"workflow": "/data/wf/read-filter.cwl#main"`) {
		t.Errorf("JSON lacks the records' field names:\n%s", r.stdout)
	}
}

func TestRunsUsage(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"runs", "-o", "yaml"},
		{"runs", "-n", "-1"},
		{"runs", "extra"},
		{"runs", "--bogus"},
	} {
		r := flowIn(t, append(args, "--db", f.db)...)
		if r.code != 2 || !strings.Contains(r.stderr, "flow: ") {
			t.Errorf("flow %q: exit %d, stderr %q; want a usage error", args, r.code, r.stderr)
		}
	}
}

func TestWorkflowName(t *testing.T) {
	cases := map[string]string{
		"/data/wf/main.cwl":              "main.cwl",
		"/data/wf/packed.cwl#main":       "packed.cwl#main",
		"file:///data/wf/packed.cwl#a/b": "packed.cwl#a/b",
		"wf.cwl":                         "wf.cwl",
	}
	for in, want := range cases {
		if got := workflowName(in); got != want {
			t.Errorf("workflowName(%q) = %q, want %q", in, got, want)
		}
	}
}
