package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/provenance"
)

func TestShow(t *testing.T) {
	f := newFixture(t)
	// "20260101" is a unique prefix of r1.
	r := flowIn(t, "show", "20260101", "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"run:       " + r1,
		"workflow:  /data/wf/fasta-stats.cwl",
		"state:     succeeded",
		"started:   " + formatTime(f.t0) + ", took 3m4s",
		"by:        ada@laptop, local executor, flow v0.3.0",
		"inputs:    fastas=[a.fa, b.fa], min_len=10",
		"outdir:    " + f.path("out"),
		"main/stats/0",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("flow show lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "error:") {
		t.Errorf("a successful run shows an error line:\n%s", r.stdout)
	}
}

func TestShowSteps(t *testing.T) {
	f := newFixture(t)
	r := flowIn(t, "show", r2, "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "error:     step count failed: exit code 1") {
		t.Errorf("the run's error is missing:\n%s", r.stdout)
	}
	rows := map[string][]string{
		"main/stats/0 ":      {"succeeded", "0", "340ms", "node1", "debian:12", "4242", "no"},
		"main/count ":        {"failed", "1", "1s", "-", "no"},
		"main/count (try 2)": {"failed", "1", "1s"},
		"main/merge ":        {"reused", "-", "0s", "yes"},
	}
	for job, cells := range rows {
		line := lineWith(r.stdout, job)
		if line == "" {
			t.Errorf("no line for %q:\n%s", job, r.stdout)
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, strings.TrimSpace(job)))
		for _, c := range cells {
			if !contains(fields, c) {
				t.Errorf("line %q lacks %q", line, c)
			}
		}
	}
}

func TestShowJSON(t *testing.T) {
	f := newFixture(t)
	r := flowIn(t, "show", "-o", "json", r2, "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Run   provenance.Run
		Steps []provenance.Attempt
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if out.Run.ID != r2 || len(out.Steps) != 5 || out.Steps[0].Job != "main/stats/0" {
		t.Errorf("flow show -o json: run %q, %d steps; want %s with 5", out.Run.ID, len(out.Steps), r2)
	}
}

func TestShowRunPrefix(t *testing.T) {
	f := newFixture(t)
	r := flowIn(t, "show", "2027", "--db", f.db)
	if r.code != 1 || r.stderr != "flow: no run matches \"2027\"\n" {
		t.Errorf("flow show 2027: exit %d, stderr %q", r.code, r.stderr)
	}
	// An ambiguous prefix: one line that names the runs it matches.
	r = flowIn(t, "show", "20260102", "--db", f.db)
	if r.code != 1 || !strings.Contains(r.stderr, r2) || !strings.Contains(r.stderr, r3) || len(stderrLines(r.stderr)) != 1 {
		t.Errorf("flow show 20260102: exit %d, stderr %q; want one line naming %s and %s", r.code, r.stderr, r2, r3)
	}
	if r := flowIn(t, "show", "--db", f.db); r.code != 2 {
		t.Errorf("flow show without a run: exit %d, want 2", r.code)
	}
}

func TestSummarizeValue(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{int64(3), "3"},
		{true, "true"},
		{"hi", `"hi"`},
		{strings.Repeat("x", 50), `"` + strings.Repeat("x", 37) + `..."`},
		{map[string]any{"class": "File", "location": "file:///d/r1.fq"}, "r1.fq"},
		{map[string]any{"class": "Directory", "path": "/d/refs", "basename": "genome"}, "genome"},
		{map[string]any{"a": 1, "b": 2}, "{2 fields}"},
		{[]any{int64(1), int64(2)}, "[1, 2]"},
		{[]any{"a", "b", "c", "d", "e"}, `["a", "b", "c", ... 5 items]`},
	}
	for _, c := range cases {
		if got := summarizeValue(c.v); got != c.want {
			t.Errorf("summarizeValue(%v) = %s, want %s", c.v, got, c.want)
		}
	}
}

// lineWith is the first line of s that contains sub.
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
