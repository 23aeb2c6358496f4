package client

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/api"
)

// Pack sends every document the workflow loads, in their layout, and each
// input file or directory under inputs/N/, pointing the inputs there.
func TestPackBundlesDocumentsAndInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(p, text string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(text), 0o644)
	}
	write("wf/main.cwl", "cwlVersion: v1.2\nclass: Workflow\ninputs: {f: File, d: Directory}\noutputs: []\nsteps:\n  s: {run: ../tools/t.cwl, in: {f: f}, out: []}\n")
	write("tools/t.cwl", "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: cat\ninputs: {f: File}\noutputs: []\n")
	write("data/x.txt", "x")
	write("data/dir/a.txt", "a")
	write("data/dir/sub/b.txt", "b")
	inputs := map[string]any{
		"f": map[string]any{"class": "File", "location": "file://" + filepath.Join(dir, "data/x.txt")},
		"d": map[string]any{"class": "Directory", "location": "file://" + filepath.Join(dir, "data/dir")},
	}
	b, err := Pack(filepath.Join(dir, "wf/main.cwl"), inputs)
	if err != nil {
		t.Fatal(err)
	}
	if b.Workflow != "workflow/wf/main.cwl" {
		t.Errorf("Workflow = %q", b.Workflow)
	}
	var names []string
	for _, f := range b.Files {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	want := []string{"inputs/1/dir/a.txt", "inputs/1/dir/sub/b.txt", "inputs/2/x.txt", "workflow/tools/t.cwl", "workflow/wf/main.cwl"}
	if !slices.Equal(names, want) {
		t.Errorf("files = %v, want %v", names, want)
	}
	if loc := b.Inputs["f"].(map[string]any)["location"]; loc != "inputs/2/x.txt" {
		t.Errorf("f's location = %v", loc)
	}
	if inputs["f"].(map[string]any)["location"] == "inputs/2/x.txt" {
		t.Error("Pack changed the caller's input object")
	}
}

// Files the documents name (a default beside the tool, an ontology in
// $schemas, a directory default with its files) travel in the documents'
// layout, each once, so the documents' relative references still hold.
func TestPackSendsFilesTheDocumentsName(t *testing.T) {
	dir := t.TempDir()
	write := func(p, text string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(text), 0o644)
	}
	write("wf/main.cwl", "cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n  s: {run: ../tools/t.cwl, in: {}, out: []}\n")
	write("tools/t.cwl", "cwlVersion: v1.2\nclass: CommandLineTool\n$namespaces: {edam: http://edamontology.org/}\n$schemas: [../onto/edam.owl]\n"+
		"baseCommand: cat\ninputs:\n  f: {type: File, default: {class: File, location: ../data/whale.txt}}\n"+
		"  d: {type: Directory, default: {class: Directory, location: ../data/dir, listing: [{class: File, location: ../data/dir/a.txt}]}}\noutputs: []\n")
	write("onto/edam.owl", "<rdf/>")
	write("data/whale.txt", "whale")
	write("data/dir/a.txt", "a")
	b, err := Pack(filepath.Join(dir, "wf/main.cwl"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range b.Files {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	want := []string{"workflow/data/dir/a.txt", "workflow/data/whale.txt", "workflow/onto/edam.owl", "workflow/tools/t.cwl", "workflow/wf/main.cwl"}
	if !slices.Equal(names, want) {
		t.Errorf("files = %v, want %v", names, want)
	}
}

func TestReadEventsParsesTheStream(t *testing.T) {
	stream := ": keep-alive\n\nid: 3\nevent: state\ndata: {\"id\":3,\"run_id\":\"r\",\"kind\":\"state\",\"data\":{\"state\":\"RUNNING\"}}\n\n" +
		"id: 4\nevent: log\ndata: {\"id\":4,\"run_id\":\"r\",\"kind\":\"log\",\"data\":{}}\n\n"
	var got []uint64
	err := readEvents(strings.NewReader(stream), func(e api.Event) error { got = append(got, e.ID); return nil })
	if err != nil || !slices.Equal(got, []uint64{3, 4}) {
		t.Errorf("events %v, %v", got, err)
	}
	if err := readEvents(strings.NewReader("data: {not json\n\n"), func(api.Event) error { return nil }); err == nil {
		t.Error("a broken event was accepted")
	}
}

func TestOutputsStayInTheirDirectory(t *testing.T) {
	c, _ := New("http://127.0.0.1:1", "t")
	for _, bad := range []string{"../x", "/etc/passwd", "a/../../x"} {
		if err := c.download(t.Context(), "r", bad, t.TempDir()); err == nil || !strings.Contains(err.Error(), "outside") {
			t.Errorf("download %q: %v", bad, err)
		}
	}
}
