package slurm

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors"
)

func TestParseSqueue(t *testing.T) {
	// Captured from the test cluster (squeue -h -t all -r -o '%i|%T|%r'),
	// plus the grouped form of pending array tasks that squeue prints
	// without -r.
	out := `1_3|COMPLETED|None
1_2|RUNNING|None
7|COMPLETING|None
8|CANCELLED|None
9|PENDING|Priority
10|PENDING|Resources
11_[0-2,5%2]|PENDING|QOSMaxJobsPerUserLimit
12|TIMEOUT|TimeLimit
13|OUT_OF_MEMORY|OutOfMemory
14|NODE_FAIL|NodeDown
15|PREEMPTED|None
`
	got, err := parseSqueue([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]status{
		"1_3": {stateCompleted, ""}, "1_2": {stateRunning, ""}, "7": {stateCompleting, ""}, "8": {stateCancelled, ""},
		"9": {statePending, "Priority"}, "10": {statePending, "Resources"},
		"11_0": {statePending, "QOSMaxJobsPerUserLimit"}, "11_1": {statePending, "QOSMaxJobsPerUserLimit"},
		"11_2": {statePending, "QOSMaxJobsPerUserLimit"}, "11_5": {statePending, "QOSMaxJobsPerUserLimit"},
		"12": {stateTimeout, "TimeLimit"}, "13": {stateOutOfMemory, "OutOfMemory"}, "14": {stateNodeFail, "NodeDown"},
		"15": {statePreempted, ""},
	}
	if !maps.Equal(got, want) {
		t.Errorf("parseSqueue =\n  %v\nwant\n  %v", got, want)
	}
	for _, bad := range []string{"1|RUNNING", "2_[x-3]|PENDING|None", "3_[5-1]|PENDING|None"} {
		if _, err := parseSqueue([]byte(bad)); err == nil {
			t.Errorf("parseSqueue(%q) did not fail", bad)
		}
	}
	if got, err := parseSqueue(nil); err != nil || len(got) != 0 {
		t.Errorf("parseSqueue of nothing = %v, %v", got, err)
	}
}

func TestParseSacct(t *testing.T) {
	// With slurmdbd (sacct -n -P -o JobID,State,ExitCode,Reason), steps
	// included; and from the job completion log (sacct -c), as captured
	// from the test cluster.
	db := `123|TIMEOUT|0:0|TimeLimit
123.batch|CANCELLED|0:15|
123.extern|COMPLETED|0:0|
124_3|OUT_OF_MEMORY|0:125|None
124_3.batch|OUT_OF_MEMORY|0:125|
125|CANCELLED by 0|0:0|None
`
	want := map[string]status{"123": {stateTimeout, "TimeLimit"}, "124_3": {stateOutOfMemory, ""}, "125": {stateCancelled, ""}}
	if got := parseSacct([]byte(db)); !maps.Equal(got, want) {
		t.Errorf("parseSacct(db) = %v, want %v", got, want)
	}
	jobcomp := "2|COMPLETED|0:0\n7|CANCELLED|0:0\n"
	want = map[string]status{"2": {stateCompleted, ""}, "7": {stateCancelled, ""}}
	if got := parseSacct([]byte(jobcomp)); !maps.Equal(got, want) {
		t.Errorf("parseSacct(jobcomp) = %v, want %v", got, want)
	}
}

func TestSplitSacct(t *testing.T) {
	for out, want := range map[string]acctMode{
		"#db\n1|COMPLETED|0:0|None\n":      acctDB,
		"#db\n#jobcomp\n1|COMPLETED|0:0\n": acctJobComp,
		"#db\n#jobcomp\n#none\n":           acctNone,
		"":                                 acctNone,
		"#db\n#jobcomp\n1|#none-looking|0:0\n#none\n":  acctNone,
		"#db\n#jobcomp\n1|CANCELLED|0:0\n2|FAILED|1\n": acctJobComp,
	} {
		if got, _ := splitSacct([]byte(out)); got != want {
			t.Errorf("splitSacct(%q) mode %d, want %d", out, got, want)
		}
	}
	if _, data := splitSacct([]byte("#db\n#jobcomp\n1|CANCELLED|0:0\n")); string(data) != "1|CANCELLED|0:0\n" {
		t.Errorf("splitSacct data = %q", data)
	}
}

func TestParseSbatch(t *testing.T) {
	for out, want := range map[string]string{"42\n": "42", "42;cluster\n": "42", "sbatch: warning: x\n43\n": "43"} {
		if got, err := parseSbatch([]byte(out)); err != nil || got != want {
			t.Errorf("parseSbatch(%q) = %q, %v", out, got, err)
		}
	}
	for _, out := range []string{"", "sbatch: error: Batch job submission failed\n", "42_1\n"} {
		if got, err := parseSbatch([]byte(out)); err == nil {
			t.Errorf("parseSbatch(%q) = %q, want an error", out, got)
		}
	}
}

func TestParseExitLine(t *testing.T) {
	rec, err := parseExitLine("signal 9 1700000000000001 1700000002500000")
	if err != nil || rec.Kind != "signal" || rec.Status != 9 ||
		!rec.Started.Equal(time.UnixMicro(1700000000000001)) || rec.Finished.Sub(rec.Started) != 2499999*time.Microsecond {
		t.Errorf("parseExitLine = %+v, %v", rec, err)
	}
	for _, bad := range []string{"", "exit 0", "exit x 1 2", "boom 0 1 2", "exit 0 1 2 3"} {
		if _, err := parseExitLine(bad); err == nil {
			t.Errorf("parseExitLine(%q) did not fail", bad)
		}
	}
}

// TestEndsWithoutExitFile: how a job that Slurm ended before its script
// could record anything becomes a Result.
func TestEndsWithoutExitFile(t *testing.T) {
	tests := []struct {
		st       status
		signal   string
		timedOut bool
		reason   string
		lost     bool
	}{
		{status{stateTimeout, "TimeLimit"}, "TIMEOUT", true, "TIMEOUT (TimeLimit)", false},
		{status{stateOutOfMemory, ""}, "OUT_OF_MEMORY", false, "OUT_OF_MEMORY", false},
		{status{stateCancelled, ""}, "CANCELLED", false, "CANCELLED", false},
		{status{stateNodeFail, "NodeDown"}, "NODE_FAIL", false, "NODE_FAIL (NodeDown)", false},
		{status{statePreempted, ""}, "PREEMPTED", false, "PREEMPTED", false},
		{status{stateFailed, "NonZeroExitCode"}, "", false, "FAILED (NonZeroExitCode)", true},
		{status{stateCompleted, ""}, "", false, "COMPLETED", true},
		{status{}, "", false, "", true}, // vanished, and sacct cannot tell
	}
	e := newTestExecutor(t, Options{})
	for _, tt := range tests {
		j := &job{taskID: "t", st: jobState{JobID: "5", Log: "/w/.flow-slurm/t.log"}, done: make(chan struct{}), status: tt.st}
		j.missingSince = time.Now().Add(-missingGrace) // past the grace period
		e.withoutExitFile(j, "tail")
		select {
		case <-j.done:
		default:
			t.Errorf("%v: the job was not finished", tt.st)
			continue
		}
		if j.res.ExitCode != -1 || j.res.Signal != tt.signal || j.res.TimedOut != tt.timedOut || j.res.Reason != tt.reason || j.res.StderrTail != "tail" {
			t.Errorf("%v: result %+v", tt.st, j.res)
		}
		if lost := errors.Is(j.err, executors.ErrLost); lost != tt.lost {
			t.Errorf("%v: err = %v, want lost %v", tt.st, j.err, tt.lost)
		}
	}
	// Within the grace period a COMPLETED job without its file waits.
	j := &job{taskID: "t", st: jobState{JobID: "6"}, done: make(chan struct{}), status: status{State: stateCompleted}}
	e.withoutExitFile(j, "")
	select {
	case <-j.done:
		t.Errorf("a job whose exit file may still be on its way was finished: %+v, %v", j.res, j.err)
	default:
	}
}

func TestResultFromExit(t *testing.T) {
	j := &job{taskID: "t", st: jobState{Argv0: "frobnicate"}}
	tests := []struct {
		rec      exitRecord
		exit     int
		signal   string
		timedOut bool
	}{
		{exitRecord{Kind: "exit", Status: 3}, 3, "", false},
		{exitRecord{Kind: "signal", Status: 9}, -1, "SIGKILL", false},
		{exitRecord{Kind: "signal", Status: 64}, -1, "SIG64", false},
		{exitRecord{Kind: "timeout", Status: 124}, -1, "SIGTERM", true},
		{exitRecord{Kind: "timeout", Status: 137}, -1, "SIGKILL", true},
	}
	for _, tt := range tests {
		res, err := resultFromExit(j, tt.rec)
		if err != nil || res.ExitCode != tt.exit || res.Signal != tt.signal || res.TimedOut != tt.timedOut {
			t.Errorf("%+v: %+v, %v", tt.rec, res, err)
		}
	}
	if _, err := resultFromExit(j, exitRecord{Kind: "notfound", Status: 127}); !errors.Is(err, executors.ErrNotFound) || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("notfound: %v", err)
	}
}
