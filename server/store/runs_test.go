package store

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestRunsAreTeamScoped: team b reaching for team a's run by its exact ID
// gets ErrNotFound from every method, and the run is left as it was.
func TestRunsAreTeamScoped(t *testing.T) {
	s := openStore(t, t.TempDir())
	r := newRun(t, s, "a", StateComplete)
	if err := s.AppendEvent(&Event{Team: "a", RunID: r.ID, Kind: EventState}); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetRun("b", r.ID)
	wantErr(t, err, ErrNotFound, "team b's GetRun")
	called := false
	err = s.UpdateRun("b", r.ID, func(*Run) error { called = true; return nil })
	wantErr(t, err, ErrNotFound, "team b's UpdateRun")
	if called {
		t.Fatal("UpdateRun handed team a's run to team b's function")
	}
	wantErr(t, s.DeleteRun("b", r.ID), ErrNotFound, "team b's DeleteRun")
	_, err = s.Events("b", r.ID, 0, 0)
	wantErr(t, err, ErrNotFound, "team b's Events")
	err = s.AppendEvent(&Event{Team: "b", RunID: r.ID, Kind: EventLog})
	wantErr(t, err, ErrNotFound, "team b's AppendEvent")
	if evs, _ := s.Events("b", "", 0, 0); len(evs) != 0 {
		t.Fatalf("team b sees team a's events: %v", evs)
	}
	if runs, _, _ := s.ListRuns("b", RunFilter{}, 0, ""); len(runs) != 0 {
		t.Fatalf("team b lists team a's runs: %v", runs)
	}
	if got, err := s.GetRun("a", r.ID); err != nil || got.State != StateComplete {
		t.Fatalf("team a's run after team b's attempts: %v %v", got, err)
	}
}

func TestRunRoundTripAndUpdate(t *testing.T) {
	s := openStore(t, t.TempDir())
	r := newRun(t, s, "a", "")
	if r.ID == "" || r.State != StateQueued || r.Submitted.IsZero() {
		t.Fatalf("CreateRun did not fill in ID, state and time: %+v", r)
	}
	wantErr(t, s.CreateRun(&Run{ID: r.ID, Team: "a"}), ErrExists, "a second run with the same ID")
	err := s.UpdateRun("a", r.ID, func(r *Run) error {
		r.State, r.Attempt, r.Started = StateRunning, r.Attempt+1, time.Now()
		r.Outputs = map[string]any{"count": 3}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRun("a", r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateRunning || got.Attempt != 1 || got.Outputs["count"] != int64(3) || got.Inputs["x"] != 1.5 {
		t.Fatalf("after the update: %+v", got)
	}
	refuse := errors.New("no")
	wantErr(t, s.UpdateRun("a", r.ID, func(r *Run) error { r.State = StateCanceled; return refuse }), refuse, "fn's error")
	if got, _ := s.GetRun("a", r.ID); got.State != StateRunning {
		t.Fatal("UpdateRun wrote a change whose fn failed")
	}
	if err := s.UpdateRun("a", r.ID, func(r *Run) error { r.Team = "b"; return nil }); err == nil {
		t.Fatal("UpdateRun moved a run to another team")
	}
	if err := s.UpdateRun("a", r.ID, func(r *Run) error { r.State = "DONE"; return nil }); err == nil {
		t.Fatal("UpdateRun accepted an unknown state")
	}
}

func TestDeleteRunOnlyWhenFinished(t *testing.T) {
	s := openStore(t, t.TempDir())
	r := newRun(t, s, "a", StateRunning)
	if err := s.AppendEvent(&Event{Team: "a", RunID: r.ID, Kind: EventState}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteRun("a", r.ID), ErrRunActive, "deleting a running run")
	_ = s.UpdateRun("a", r.ID, func(r *Run) error { r.State = StateCanceled; return nil })
	if err := s.DeleteRun("a", r.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetRun("a", r.ID)
	wantErr(t, err, ErrNotFound, "a deleted run")
	if evs, _ := s.Events("a", "", 0, 0); len(evs) != 0 {
		t.Fatalf("a deleted run's events remain: %v", evs)
	}
}

// TestPaging: 25 runs in pages of 10 come as 10, 10, 5, newest first, each
// once, in the same order as one big page.
func TestPaging(t *testing.T) {
	s := openStore(t, t.TempDir())
	for range 25 {
		newRun(t, s, "a", StateQueued)
	}
	newRun(t, s, "b", StateQueued) // another team's run must not show up
	all, next, err := s.ListRuns("a", RunFilter{}, 100, "")
	if err != nil || next != "" || len(all) != 25 {
		t.Fatalf("one page of 100: %d runs, next %q, %v", len(all), next, err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID || all[i].Submitted.After(all[i-1].Submitted) {
			t.Fatalf("runs %d and %d are not newest first: %s, %s", i-1, i, all[i-1].ID, all[i].ID)
		}
	}
	var paged []*Run
	var sizes []int
	tok := ""
	for {
		page, next, err := s.ListRuns("a", RunFilter{}, 10, tok)
		if err != nil {
			t.Fatal(err)
		}
		paged, sizes = append(paged, page...), append(sizes, len(page))
		if next == "" {
			break
		}
		tok = next
	}
	if !reflect.DeepEqual(sizes, []int{10, 10, 5}) {
		t.Fatalf("page sizes %v, want [10 10 5]", sizes)
	}
	if !reflect.DeepEqual(ids(paged), ids(all)) {
		t.Fatalf("paged order differs from the full listing:\n%v\n%v", ids(paged), ids(all))
	}
}

func TestPageTokensCannotBeForged(t *testing.T) {
	s := openStore(t, t.TempDir())
	for range 5 {
		newRun(t, s, "a", StateQueued)
		newRun(t, s, "b", StateQueued)
	}
	_, tok, err := s.ListRuns("a", RunFilter{}, 2, "")
	if err != nil || tok == "" {
		t.Fatalf("first page: next %q, %v", tok, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	alter := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	forged := base64.RawURLEncoding.EncodeToString(append(make([]byte, pageTokenMACSize), "20990101T000000.000000Z-zzzzzz"...))
	for name, try := range map[string]func() error{
		"altered ID":    func() error { _, _, err := s.ListRuns("a", RunFilter{}, 2, alter(len(raw)-1)); return err },
		"altered MAC":   func() error { _, _, err := s.ListRuns("a", RunFilter{}, 2, alter(0)); return err },
		"forged":        func() error { _, _, err := s.ListRuns("a", RunFilter{}, 2, forged); return err },
		"not base64":    func() error { _, _, err := s.ListRuns("a", RunFilter{}, 2, "!!!"); return err },
		"another team":  func() error { _, _, err := s.ListRuns("b", RunFilter{}, 2, tok); return err },
		"other filter":  func() error { _, _, err := s.ListRuns("a", RunFilter{State: StateQueued}, 2, tok); return err },
		"another store": func() error { _, _, err := openStore(t, t.TempDir()).ListRuns("a", RunFilter{}, 2, tok); return err },
	} {
		wantErr(t, try(), ErrBadPageToken, name+" page token")
	}
	if _, _, err := s.ListRuns("a", RunFilter{}, 2, tok); err != nil {
		t.Fatalf("the genuine token was refused: %v", err)
	}
}

// TestPageTokenSurvivesDeletedRun: deleting the run a page ended on does
// not break the listing; the next page starts at the next older run.
func TestPageTokenSurvivesDeletedRun(t *testing.T) {
	s := openStore(t, t.TempDir())
	for range 6 {
		newRun(t, s, "a", StateComplete)
	}
	first, tok, err := s.ListRuns("a", RunFilter{}, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRun("a", first[2].ID); err != nil {
		t.Fatal(err)
	}
	second, next, err := s.ListRuns("a", RunFilter{}, 3, tok)
	if err != nil || next != "" || len(second) != 3 || second[0].ID >= first[2].ID {
		t.Fatalf("after deleting the page's last run: %v, next %q, %v", ids(second), next, err)
	}
}

func TestListRunsFilters(t *testing.T) {
	s := openStore(t, t.TempDir())
	for i := range 12 {
		r := &Run{Team: "a", State: []RunState{StateQueued, StateComplete, StateRunning}[i%3],
			Tags: map[string]string{"project": []string{"x", "y"}[i%2]}}
		if err := s.CreateRun(r); err != nil {
			t.Fatal(err)
		}
	}
	count := func(f RunFilter, pageSize int) int {
		n, tok := 0, ""
		for {
			runs, next, err := s.ListRuns("a", f, pageSize, tok)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				if !f.match(r) {
					t.Fatalf("run %s (%s %v) does not match %+v", r.ID, r.State, r.Tags, f)
				}
			}
			if n += len(runs); next == "" {
				return n
			}
			tok = next
		}
	}
	for _, c := range []struct {
		f    RunFilter
		want int
	}{
		{RunFilter{State: StateComplete}, 4},
		{RunFilter{Tags: map[string]string{"project": "x"}}, 6},
		{RunFilter{State: StateQueued, Tags: map[string]string{"project": "x"}}, 2},
		{RunFilter{Tags: map[string]string{"project": "z"}}, 0},
	} {
		if got := count(c.f, 3); got != c.want {
			t.Errorf("%+v in pages of 3: %d runs, want %d", c.f, got, c.want)
		}
	}
}

func ids(runs []*Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}
