package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/server/store"
)

// A submission cut short by a crash leaves a run directory whose run is
// not in the store, or a workflow version directory whose registration is
// not; the next start removes them, and nothing else.
func TestPartialUploadsAreSweptAtStart(t *testing.T) {
	dataDir := t.TempDir()
	runs := filepath.Join(dataDir, "runs")
	st, err := store.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	recorded := provenance.NewRunID()
	if err := st.CreateRun(&store.Run{ID: recorded, Team: "lab", Dir: filepath.Join(runs, recorded), Workflow: "tool.cwl"}); err != nil {
		t.Fatal(err)
	}
	wfs := filepath.Join(dataDir, "workflows")
	registered := filepath.Join(wfs, "lab", "align", "1")
	if err := st.PutWorkflow(&store.Workflow{Team: "lab", Name: "align", Version: "1", Dir: registered, Main: "wf.cwl"}); err != nil {
		t.Fatal(err)
	}
	// A team name may hold a "/": its workflows are one level deeper.
	deep := filepath.Join(wfs, "lab/sub", "align", "1")
	if err := st.PutWorkflow(&store.Workflow{Team: "lab/sub", Name: "align", Version: "1", Dir: deep, Main: "wf.cwl"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	unrecorded := filepath.Join(wfs, "lab", "align", "2")
	for _, dir := range []string{registered, deep, unrecorded} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "wf.cwl"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	partial := provenance.NewRunID()
	// The same under a team's own directory, as runs are kept now.
	teamRuns := filepath.Join(dataDir, "teams", "lab", "runs")
	teamPartial := filepath.Join(teamRuns, provenance.NewRunID())
	teamUnrecorded := filepath.Join(dataDir, "teams", "lab", "workflows", "align", "3")
	for _, p := range []string{recorded + "/tool.cwl", partial + "/tool.cwl", partial + "/data/half-written.bin", "notes/kept.txt",
		teamPartial + "/tool.cwl", teamUnrecorded + "/wf.cwl"} {
		path := filepath.Join(runs, p)
		if filepath.IsAbs(p) {
			path = p
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Config{DataDir: dataDir, Flow: flowBin, Log: zerolog.Nop(), CheckSandbox: checkSandbox})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(runs, partial)); !os.IsNotExist(err) {
		t.Errorf("the partial upload's directory is still there: %v", err)
	}
	for _, kept := range []string{filepath.Join(runs, recorded, "tool.cwl"), filepath.Join(runs, "notes/kept.txt"),
		filepath.Join(registered, "wf.cwl"), filepath.Join(deep, "wf.cwl")} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s should be kept: %v", kept, err)
		}
	}
	for _, gone := range []string{unrecorded, teamPartial, teamUnrecorded} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s, which nothing recorded, is still there: %v", gone, err)
		}
	}
}
