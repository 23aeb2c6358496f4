package main

import (
	"os"
	"strings"
	"testing"
)

func TestLogsList(t *testing.T) {
	f := newFixture(t)
	r := flowIn(t, "logs", r2, "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := map[string]string{
		"main/stats/0": "stderr, stdout",
		"main/stats/1": "stderr",
		"main/count":   "stderr",
	}
	for job, logs := range want {
		if line := lineWith(r.stdout, job); !strings.HasSuffix(line, logs) {
			t.Errorf("line for %s is %q, want it to end with %q:\n%s", job, line, logs, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "main/merge") {
		t.Errorf("a job without logs is listed:\n%s", r.stdout)
	}
	if n := strings.Count(r.stdout, "main/count"); n != 1 {
		t.Errorf("main/count is listed %d times, want once (its last try):\n%s", n, r.stdout)
	}

	r = flowIn(t, "logs", r1, "--db", f.db)
	if r.code != 0 || r.stdout != "run "+r1+" recorded no logs\n" {
		t.Errorf("flow logs of a run without logs: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestLogsSelect(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		args   []string
		code   int
		stdout string
		stderr string // prefix
	}{
		// a step id that ran one job; the last of its two tries
		{[]string{"count"}, 0, "count: no reads left\n", ""},
		// an exact job path, with both logs under headers, the missing newline added
		{[]string{"main/stats/0"}, 0, "==> stderr (" + f.path("logs/stats0.err") + ") <==\nreading a.fa\n==> stdout (" + f.path("logs/stats0.out") + ") <==\nn=3\n", ""},
		// the end of a job path; one log alone, as it is
		{[]string{"stats/1"}, 0, "reading b.fa\n", ""},
		{[]string{"main/stats/0", "--stdout"}, 0, "n=3\n", ""},
		{[]string{"main/stats/0", "--stderr"}, 0, "reading a.fa", ""},
		// a scattered step: which job?
		{[]string{"stats"}, 1, "", `flow: "stats" matches 2 jobs; choose one: main/stats/0, main/stats/1` + "\n"},
		{[]string{"nope"}, 1, "", `flow: no job or step "nope" in this run`},
		{[]string{"merge"}, 1, "", "flow: job main/merge recorded no stdout or stderr\n"},
		{[]string{"count", "--stdout"}, 1, "", "flow: job main/count recorded no stdout\n"},
		{[]string{"count", "--stdout", "--stderr"}, 2, "", "flow: give --stdout or --stderr, not both"},
	}
	for _, c := range cases {
		args := append([]string{"logs", "--db", f.db, "20260102T09"}, c.args...)
		r := flowIn(t, args...)
		if r.code != c.code || r.stdout != c.stdout || !strings.HasPrefix(r.stderr, c.stderr) {
			t.Errorf("flow logs RUN %q: exit %d, stdout %q, stderr %q\nwant %d, %q, %q", c.args, r.code, r.stdout, r.stderr, c.code, c.stdout, c.stderr)
		}
	}
}

// TestLogsGone: a log whose work directory was removed is reported, not
// silently skipped.
func TestLogsGone(t *testing.T) {
	f := newFixture(t)
	must(t, os.Remove(f.path("logs/stats1.err")))
	r := flowIn(t, "logs", r2, "main/stats/1", "--db", f.db)
	if r.code != 1 || !strings.Contains(r.stderr, "no longer exists") {
		t.Errorf("exit %d, stderr %q; want a message that the log no longer exists", r.code, r.stderr)
	}
}
