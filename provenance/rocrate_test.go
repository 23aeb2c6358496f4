package provenance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// crateGraph is a parsed ro-crate-metadata.json, entities by @id.
type crateGraph map[string]map[string]any

func readCrate(t *testing.T, dir string) crateGraph {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "ro-crate-metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context []string         `json:"@context"`
		Graph   []map[string]any `json:"@graph"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("ro-crate-metadata.json is not the expected JSON-LD: %v", err)
	}
	if !slices.Contains(doc.Context, "https://w3id.org/ro/crate/1.1/context") {
		t.Errorf("@context = %v, want the RO-Crate 1.1 context", doc.Context)
	}
	g := crateGraph{}
	for _, e := range doc.Graph {
		id, _ := e["@id"].(string)
		if id == "" || g[id] != nil {
			t.Fatalf("entity without @id, or @id %q defined twice", id)
		}
		g[id] = e
	}
	for id, e := range g {
		for _, r := range refsIn(e, true) {
			if g[r] == nil && !strings.HasPrefix(r, "http://schema.org/") { // schema.org terms need no entity
				t.Errorf("entity %s refers to %s, which the graph does not define", id, r)
			}
		}
	}
	return g
}

// refsIn lists the @ids referenced inside v (skipping v's own @id).
func refsIn(v any, top bool) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if id, ok := v["@id"].(string); ok && !top {
			return []string{id}
		}
		for k, x := range v {
			if k != "@id" {
				out = append(out, refsIn(x, false)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, refsIn(x, false)...)
		}
	}
	return out
}

// ids returns the @ids that property prop of e refers to.
func (g crateGraph) ids(e map[string]any, prop string) []string {
	return refsIn(map[string]any{"x": e[prop]}, true)
}

func (g crateGraph) hasType(id, typ string) bool {
	switch t := g[id]["@type"].(type) {
	case string:
		return t == typ
	case []any:
		return slices.Contains(t, any(typ))
	}
	return false
}

func (g crateGraph) ofType(typ string) []string {
	var out []string
	for id := range g {
		if g.hasType(id, typ) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func TestROCrateOfAThreeStepRun(t *testing.T) {
	c := buildChain(t)
	dir := filepath.Join(t.TempDir(), "crate")
	if err := WriteROCrate(ctx, c.db, c.run.ID[:10], dir); err != nil {
		t.Fatal(err)
	}
	g := readCrate(t, dir)

	desc := g["ro-crate-metadata.json"]
	if !slices.Contains(g.ids(desc, "conformsTo"), "https://w3id.org/ro/crate/1.1") || g.ids(desc, "about")[0] != "./" {
		t.Errorf("metadata descriptor = %v", desc)
	}
	root := g["./"]
	for _, p := range []string{"process", "workflow", "provenance"} {
		if !slices.Contains(g.ids(root, "conformsTo"), "https://w3id.org/ro/wfrun/"+p+"/0.5") {
			t.Errorf("root does not conform to the %s run crate profile 0.5: %v", p, root["conformsTo"])
		}
	}
	wfID := g.ids(root, "mainEntity")[0]
	for _, typ := range []string{"File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"} {
		if !g.hasType(wfID, typ) {
			t.Errorf("main entity %s is not a %s", wfID, typ)
		}
	}

	runAct := g["#run-"+c.run.ID]
	if g.ids(runAct, "instrument")[0] != wfID || runAct["actionStatus"].(map[string]any)["@id"] != statusCompleted ||
		runAct["startTime"] == nil || runAct["endTime"] == nil {
		t.Errorf("run action = %v", runAct)
	}
	if got, want := g.ids(runAct, "object"), []string{"#pv-min_quality", "inputs/reads.fq", "inputs/ref.fa"}; !sameSet(got, want) {
		t.Errorf("run inputs = %v, want %v", got, want)
	}
	if g["#pv-min_quality"]["value"] != float64(20) {
		t.Errorf("min_quality = %v", g["#pv-min_quality"])
	}
	if got := g.ids(runAct, "result"); !slices.Equal(got, []string{"outputs/report.txt"}) {
		t.Errorf("run outputs = %v", got)
	}

	checkStepActions(t, g, wfID)
	checkCopiedFiles(t, g, dir, 5) // the workflow, two inputs, one output, job.json

	// The intermediate file is one entity, made by trim and used by count.
	trimmed := "#file-" + hexOf(c.trimmed.SHA1)
	if g[trimmed] == nil || fileExists(filepath.Join(dir, "trimmed.fq")) {
		t.Fatalf("the intermediate trimmed.fq should be described as %s and not copied", trimmed)
	}
	if !slices.Contains(g.ids(g["#main/trim/attempt-1"], "result"), trimmed) ||
		!slices.Contains(g.ids(g["#main/count/attempt-1"], "object"), trimmed) {
		t.Error("trimmed.fq is not linked from trim's result to count's object")
	}

	if err := WriteROCrate(ctx, c.db, c.run.ID, dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("exporting into a non-empty directory gave %v", err)
	}
}

func checkStepActions(t *testing.T, g crateGraph, wfID string) {
	t.Helper()
	wf := g[wfID]
	var stepActs []string
	for _, id := range g.ofType("CreateAction") {
		if !strings.HasPrefix(id, "#run-") {
			stepActs = append(stepActs, id)
		}
	}
	if len(stepActs) != 3 {
		t.Fatalf("step CreateActions = %v, want one per attempt", stepActs)
	}
	for _, id := range stepActs {
		tool := g.ids(g[id], "instrument")[0]
		if !slices.Contains(g.ids(wf, "hasPart"), tool) {
			t.Errorf("%s ran %s, which the workflow does not list in hasPart", id, tool)
		}
	}
	controls := g.ofType("ControlAction")
	if len(controls) != 3 {
		t.Fatalf("ControlActions = %v, want 3", controls)
	}
	for _, id := range controls {
		step := g.ids(g[id], "instrument")[0]
		if !g.hasType(step, "HowToStep") || !slices.Contains(g.ids(wf, "step"), step) {
			t.Errorf("%s is not orchestrated by a step of the workflow: %s", id, step)
		}
		if !slices.Contains(stepActs, g.ids(g[id], "object")[0]) {
			t.Errorf("%s does not point at a tool run", id)
		}
	}
	org := g.ofType("OrganizeAction")
	if len(org) != 1 || len(g.ids(g[org[0]], "object")) != 3 || !strings.HasPrefix(g.ids(g[org[0]], "result")[0], "#run-") {
		t.Errorf("OrganizeAction = %v", org)
	}
}

// checkCopiedFiles checks every File entity with a crate path: the copy is
// there, and its sha1 and size are those the entity states.
func checkCopiedFiles(t *testing.T, g crateGraph, dir string, want int) {
	t.Helper()
	n := 0
	for _, id := range g.ofType("File") {
		if strings.HasPrefix(id, "#") {
			continue
		}
		n++
		sum, size, err := hashFile(filepath.Join(dir, filepath.FromSlash(id)))
		if err != nil {
			t.Errorf("file entity %s has no copy in the crate: %v", id, err)
			continue
		}
		if g[id]["sha1"] != hexOf(sum) || g[id]["contentSize"] != strconv.FormatInt(size, 10) {
			t.Errorf("%s: sha1 %v size %v in the metadata, but the copy has %s, %d", id, g[id]["sha1"], g[id]["contentSize"], sum, size)
		}
		if !slices.Contains(g.ids(g["./"], "hasPart"), id) {
			t.Errorf("%s is not listed in the root's hasPart", id)
		}
	}
	if n != want {
		t.Errorf("%d files copied into the crate, want %d", n, want)
	}
}

func TestROCrateLeavesOutChangedAndMissingFiles(t *testing.T) {
	c := buildChain(t)
	if err := os.WriteFile(c.reads.Path, []byte("edited after the run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(c.report.Path); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteROCrate(ctx, c.db, c.run.ID, dir); err != nil {
		t.Fatal(err)
	}
	g := readCrate(t, dir)
	checkCopiedFiles(t, g, dir, 3) // the workflow, ref.fa and job.json
	reads := g["#file-"+hexOf(c.reads.SHA1)]
	if reads == nil || !strings.Contains(reads["description"].(string), "has changed since the run") {
		t.Errorf("the edited input is described as %v", reads)
	}
	report := g["#file-"+hexOf(c.report.SHA1)]
	if report == nil || !strings.Contains(report["description"].(string), "No longer at") {
		t.Errorf("the deleted output is described as %v", report)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
