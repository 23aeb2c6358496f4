package store

import (
	"testing"
	"time"
)

// The web interface's filters: by workflow, by text, by date; a page
// token of one filter does not continue another.
func TestListFilters(t *testing.T) {
	s := openStore(t, t.TempDir())
	mk := func(name, wf, errText string) *Run {
		r := &Run{Team: "a", Owner: "tok", State: StateComplete, Name: name, Workflow: wf, Error: errText}
		if err := s.CreateRun(r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	align := mk("align@1.0", "wf.cwl", "")
	mk("align@2.0", "wf.cwl", "")
	mk("", "other.cwl", "Sample PX17 failed")
	count := func(f RunFilter) int {
		t.Helper()
		runs, _, err := s.ListRuns("a", f, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		return len(runs)
	}
	for what, c := range map[string]struct {
		f    RunFilter
		want int
	}{
		"a workflow's every version": {RunFilter{Workflow: "align"}, 2},
		"one version":                {RunFilter{Workflow: "align@1.0"}, 1},
		"a main document":            {RunFilter{Workflow: "other.cwl"}, 1},
		"text in the error":          {RunFilter{Text: "px17"}, 1},
		"text in the id":             {RunFilter{Text: align.ID}, 1},
		"since the future":           {RunFilter{Since: time.Now().Add(time.Hour)}, 0},
		"until the future":           {RunFilter{Until: time.Now().Add(time.Hour)}, 3},
		"until the past":             {RunFilter{Until: time.Now().Add(-time.Hour)}, 0},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d runs, want %d", what, got, c.want)
		}
	}
	_, next, err := s.ListRuns("a", RunFilter{Workflow: "align"}, 1, "")
	if err != nil || next == "" {
		t.Fatalf("first page: %q %v", next, err)
	}
	_, _, err = s.ListRuns("a", RunFilter{Workflow: "other.cwl"}, 1, next)
	wantErr(t, err, ErrBadPageToken, "a page token of another filter")
}
