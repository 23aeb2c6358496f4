package store

import (
	"strings"
	"testing"
	"time"
)

func TestWorkflowVersions(t *testing.T) {
	s := openStore(t, t.TempDir())
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range []string{"1", "1.2", "0.9"} {
		w := &Workflow{Team: "a", Name: "align", Version: v, Dir: "/data/wf/align/" + v, Main: "main.cwl",
			Created: t0.Add(time.Duration(i) * time.Hour)}
		if err := s.PutWorkflow(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutWorkflow(&Workflow{Team: "a", Name: "call", Version: "1"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.PutWorkflow(&Workflow{Team: "a", Name: "align", Version: "1"}), ErrExists, "re-registering a version")

	w, err := s.GetWorkflow("a", "align", "")
	if err != nil || w.Version != "0.9" {
		t.Fatalf("newest align: %+v, %v; want version 0.9, registered last", w, err)
	}
	w, err = s.GetWorkflow("a", "align", "1")
	if err != nil || w.Version != "1" || w.Dir != "/data/wf/align/1" {
		t.Fatalf("align 1: %+v, %v", w, err)
	}
	_, err = s.GetWorkflow("a", "align", "2")
	wantErr(t, err, ErrNotFound, "an unknown version")
	_, err = s.GetWorkflow("b", "align", "")
	wantErr(t, err, ErrNotFound, "another team's workflow")

	ws, err := s.Workflows("a")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.Name+"@"+w.Version)
	}
	if want := "align@0.9 align@1.2 align@1 call@1"; strings.Join(got, " ") != want {
		t.Fatalf("workflows %q, want %q", strings.Join(got, " "), want)
	}
}
