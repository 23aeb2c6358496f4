package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
	"github.com/flow-cwl/flow/provenance"
)

// runWords runs the three-step words workflow with its own database and
// returns the database, the output directory and the run id.
func runWords(t *testing.T) (db, outdir, runID string) {
	t.Helper()
	dir := t.TempDir()
	db, outdir = filepath.Join(dir, "flow.db"), filepath.Join(dir, "out")
	r := flow(t, "run", "--db", db, "--outdir", outdir, "testdata/lineage/words.cwl", "--text", "testdata/lineage/text.txt")
	if r.code != 0 {
		t.Fatalf("flow run: exit %d: %s", r.code, r.stderr)
	}
	runs := flow(t, "runs", "--db", db, "-o", "json")
	var list []struct{ ID string }
	if err := json.Unmarshal([]byte(runs.stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("flow runs: %v %s", err, runs.stdout)
	}
	return db, outdir, list[0].ID
}

// TestLineageOfFinalOutput: flow lineage on the final output names the
// run, each step back to the workflow input, and the command lines.
func TestLineageOfFinalOutput(t *testing.T) {
	db, outdir, runID := runWords(t)
	r := flow(t, "lineage", "--db", db, filepath.Join(outdir, "count.txt"))
	if r.code != 0 {
		t.Fatalf("flow lineage: exit %d: %s", r.code, r.stderr)
	}
	out := r.stdout
	for _, want := range []string{runID, "count", "unique", "split", "wc -l", "sort -u", "tr -s", "text.txt"} {
		if !strings.Contains(out, want) {
			t.Errorf("lineage does not mention %q:\n%s", want, out)
		}
	}
	// count comes from unique, which comes from split, which read text.txt.
	order := regexp.MustCompile(`(?s)count.*unique.*split.*text\.txt`)
	if !order.MatchString(out) {
		t.Errorf("lineage does not walk count ← unique ← split ← text.txt:\n%s", out)
	}
}

// TestROCrateExport: the Workflow Run RO-Crate of a real run is JSON-LD
// with the profile's entities, and holds every input and output file with
// its checksum.
func TestROCrateExport(t *testing.T) {
	db, _, runID := runWords(t)
	crate := filepath.Join(t.TempDir(), "crate")
	if r := flow(t, "prov", "--db", db, runID, "--format", "ro-crate", "-o", crate); r.code != 0 {
		t.Fatalf("flow prov: exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(crate, "ro-crate-metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context any              `json:"@context"`
		Graph   []map[string]any `json:"@graph"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("ro-crate-metadata.json is not JSON: %v", err)
	}
	byID := map[string]map[string]any{}
	for _, e := range doc.Graph {
		byID[e["@id"].(string)] = e
	}
	root := byID["./"]
	if root == nil || !strings.Contains(string(data), "https://w3id.org/ro/wfrun/workflow/") {
		t.Fatalf("no root dataset conforming to the Workflow Run Crate profile")
	}
	main, _ := root["mainEntity"].(map[string]any)
	if main == nil || !hasType(byID[main["@id"].(string)], "ComputationalWorkflow") {
		t.Errorf("the root's mainEntity is not a ComputationalWorkflow")
	}
	var action map[string]any
	for _, e := range doc.Graph {
		if hasType(e, "CreateAction") && e["instrument"] != nil && refersTo(e["instrument"], main["@id"].(string)) {
			action = e
		}
	}
	if action == nil {
		t.Fatal("no CreateAction of the workflow")
	}
	for _, want := range []string{"text.txt", "count.txt"} {
		found := false
		for _, e := range doc.Graph {
			if hasType(e, "File") && strings.HasSuffix(e["@id"].(string), want) {
				found = true
				sum, _ := e["sha1"].(string)
				copyData, err := os.ReadFile(filepath.Join(crate, e["@id"].(string)))
				if err != nil || sum == "" {
					t.Errorf("%s: not in the crate, or no sha1 (%v)", want, err)
				} else if got := sha1Hex(copyData); got != strings.TrimPrefix(sum, "sha1$") {
					t.Errorf("%s: sha1 %s does not match its copy's %s", want, sum, got)
				}
			}
		}
		if !found {
			t.Errorf("the crate has no File entity for %s", want)
		}
	}
}

func hasType(e map[string]any, typ string) bool {
	switch t := e["@type"].(type) {
	case string:
		return t == typ
	case []any:
		for _, x := range t {
			if x == typ {
				return true
			}
		}
	}
	return false
}

func refersTo(v any, id string) bool {
	switch t := v.(type) {
	case map[string]any:
		return t["@id"] == id
	case []any:
		for _, x := range t {
			if refersTo(x, id) {
				return true
			}
		}
	}
	return false
}

func sha1Hex(data []byte) string {
	h := sha1.Sum(data)
	return hex.EncodeToString(h[:])
}

// Two runs that make the same bytes into two output directories: the
// lineage of each path names the run that wrote it, and --by-content the
// newest run that made those bytes.
func TestLineageNamesTheRunThatWroteThePath(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "flow.db")
	var ids []string
	for _, out := range []string{"out1", "out2"} {
		r := flow(t, "run", "--db", db, "--outdir", filepath.Join(dir, out), "testdata/lineage/words.cwl", "--text", "testdata/lineage/text.txt")
		if r.code != 0 {
			t.Fatalf("flow run: exit %d: %s", r.code, r.stderr)
		}
		ids = append(ids, lastRun(t, db).ID)
	}
	for i, out := range []string{"out1", "out2"} {
		path := filepath.Join(dir, out, "count.txt")
		r := flow(t, "lineage", "--db", db, path)
		if r.code != 0 {
			t.Fatalf("flow lineage %s: exit %d: %s", out, r.code, r.stderr)
		}
		first, _, _ := strings.Cut(r.stdout, "from:")
		if !strings.Contains(first, "made by run "+ids[i]) || !strings.HasPrefix(r.stdout, path+"\n") {
			t.Errorf("flow lineage %s does not name the run that wrote it (%s) and the path:\n%s", out, ids[i], r.stdout)
		}
	}
	r := flow(t, "lineage", "--by-content", "--db", db, filepath.Join(dir, "out1", "count.txt"))
	if first, _, _ := strings.Cut(r.stdout, "from:"); r.code != 0 || !strings.Contains(first, "made by run "+ids[1]) {
		t.Errorf("flow lineage --by-content (exit %d) does not name the newest run that made the bytes, %s:\n%s%s", r.code, ids[1], r.stdout, r.stderr)
	}
}

// copyTree copies the files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestROCrateRunsAgain: a crate holds every document the workflow loaded
// and its inputs, so it validates and runs where it is unpacked, with the
// original documents gone.
func TestROCrateRunsAgain(t *testing.T) {
	dir := t.TempDir()
	src, db, crate := filepath.Join(dir, "src"), filepath.Join(dir, "flow.db"), filepath.Join(dir, "crate")
	copyTree(t, "testdata/crate", src)
	r := flow(t, "run", "--db", db, "--outdir", filepath.Join(dir, "out"), filepath.Join(src, "wf.cwl"), "--text", filepath.Join(src, "data", "in.txt"))
	if r.code != 0 {
		t.Fatalf("flow run: exit %d: %s", r.code, r.stderr)
	}
	want := testenv.OutputChecksums(t, r.stdout)
	id := lastRun(t, db).ID
	if r := flow(t, "prov", "--db", db, id, "--format", "ro-crate", "-o", crate); r.code != 0 {
		t.Fatalf("flow prov: exit %d: %s", r.code, r.stderr)
	}

	// A run recorded before runs kept their documents: the crate takes
	// those the workflow loads now.
	older := filepath.Join(dir, "older-crate")
	pdb, err := provenance.Open(db, provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := pdb.GetRun(context.Background(), id)
	if err == nil {
		run.Documents = nil
		err = pdb.UpdateRun(context.Background(), run)
	}
	pdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	if r := flow(t, "prov", "--db", db, id, "--format", "ro-crate", "-o", older); r.code != 0 {
		t.Fatalf("flow prov of a run without recorded documents: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(older, "tools", "upper.cwl")); err != nil {
		t.Errorf("the crate of a run without recorded documents lacks the tool: %v", err)
	}

	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"wf.cwl", "tools/upper.cwl", "job.json"} {
		if _, err := os.Stat(filepath.Join(crate, f)); err != nil {
			t.Errorf("the crate lacks %s: %v", f, err)
		}
	}
	t.Chdir(crate)
	if r := flow(t, "validate", "wf.cwl"); r.code != 0 {
		t.Fatalf("flow validate in the crate: exit %d: %s", r.code, r.stderr)
	}
	r = flow(t, "run", "--db", db, "--no-cache", "--outdir", filepath.Join(dir, "again"), "wf.cwl", "job.json")
	if r.code != 0 {
		t.Fatalf("flow run in the crate: exit %d: %s", r.code, r.stderr)
	}
	if got := testenv.OutputChecksums(t, r.stdout); !reflect.DeepEqual(got, want) {
		t.Errorf("the crate's run made %v, the original %v", got, want)
	}
}
