package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// inplaceWorkflow makes a file, then updates it in place: its two outputs
// are one file.
const inplaceWorkflow = `cwlVersion: v1.2
class: Workflow
requirements:
  InplaceUpdateRequirement: {inplaceUpdate: true}
inputs: []
outputs:
  made: {type: File, outputSource: make/out}
  updated: {type: File, outputSource: update/out}
steps:
  make:
    in: {}
    out: [out]
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, "echo one > blurb"]
      inputs: []
      outputs: {out: {type: File, outputBinding: {glob: blurb}}}
  update:
    in: {r: make/out}
    out: [out]
    run:
      class: CommandLineTool
      requirements:
        InitialWorkDirRequirement: {listing: [{entry: $(inputs.r), writable: true}]}
      baseCommand: [sh, -c, "echo two >> blurb"]
      inputs: {r: File}
      outputs: {out: {type: File, outputBinding: {glob: blurb}}}
`

func TestInplaceUpdatedOutputsShareOneLocation(t *testing.T) {
	check := func(name string, out map[string]any, outdir string) {
		t.Helper()
		made, updated := out["made"].(map[string]any), out["updated"].(map[string]any)
		if made["location"] != updated["location"] || made["basename"] != "blurb" {
			t.Errorf("%s: made at %v, updated at %v; want both at .../blurb", name, made["location"], updated["location"])
		}
		if got := readOutput(t, updated); got != "one\ntwo\n" {
			t.Errorf("%s: blurb holds %q", name, got)
		}
		if ents, _ := os.ReadDir(outdir); len(ents) != 1 {
			t.Errorf("%s: the output directory holds %d entries, want blurb alone", name, len(ents))
		}
	}
	e := newEngine(t)
	out, err := e.Run(t.Context(), loadDoc(t, inplaceWorkflow), map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	outdir := t.TempDir()
	moved, err := e.Relocate(context.Background(), out, outdir)
	if err != nil {
		t.Fatal(err)
	}
	check("without the cache", moved, outdir)

	dir := t.TempDir()
	outdir = filepath.Join(dir, "out")
	check("with the cache", cachedRun(t, dir, inplaceWorkflow, outdir, map[string]any{}), outdir)
}

func TestFileInsideOutputDirectoryStaysThere(t *testing.T) {
	out, err := run(t, `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, "mkdir d && echo hi > d/x"]
inputs: []
outputs:
  a: {type: File, outputBinding: {glob: d/x}}
  b: {type: Directory, outputBinding: {glob: d}}
`, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := out["a"].(map[string]any), out["b"].(map[string]any)
	if a["path"] != filepath.Join(b["path"].(string), "x") {
		t.Errorf("the file is at %v, its directory at %v; want it inside", a["path"], b["path"])
	}
	if got := readOutput(t, a); got != "hi\n" {
		t.Errorf("d/x holds %q", got)
	}
}
