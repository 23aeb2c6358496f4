package engine

import (
	"path/filepath"
	"reflect"
	"testing"
)

// A scatter keeps its jobs' output Files slimmed (see slim.go); a step
// that reads them sees every field again, as the job produced them, in
// its valueFrom expressions too (which run before its tool's inputs are
// bound).
func TestScatterOutputsKeepTheirNamesDownstream(t *testing.T) {
	out, err := run(t, `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}, InlineJavascriptRequirement: {}, StepInputExpressionRequirement: {}}
inputs: {names: "string[]"}
outputs:
  seen: {type: "string[]", outputSource: describe/seen}
  files: {type: "File[]", outputSource: make/f}
  again: {type: "File[]", outputSource: make/f}
steps:
  make:
    run:
      class: CommandLineTool
      inputs: {n: {type: string}}
      baseCommand: touch
      arguments: [$(inputs.n)]
      outputs: {f: {type: File, outputBinding: {glob: $(inputs.n)}}}
    scatter: n
    in: {n: names}
    out: [f]
  describe:
    run:
      class: ExpressionTool
      inputs: {f: File, s: string}
      outputs: {seen: string}
      expression: '$({seen: inputs.s})'
    scatter: f
    in:
      f: make/f
      s:
        source: make/f
        valueFrom: |
          ${ var f = inputs.f;
             return [f.class, f.basename, f.nameroot, f.nameext, f.location.slice(-f.basename.length - 1),
                     f.dirname == f.path.slice(0, -f.basename.length - 1)].join(" "); }
    out: [seen]
`, map[string]any{"names": []any{"a.txt", "b.tar.gz", ".hidden"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"File a.txt a .txt /a.txt true", "File b.tar.gz b.tar .gz /b.tar.gz true", "File .hidden .hidden  /.hidden true"}
	if !reflect.DeepEqual(out["seen"], want) {
		t.Errorf("downstream step saw %q, want %q", out["seen"], want)
	}
	// Two outputs from one source both get every file, though the
	// relocation lets go of what it placed.
	for _, k := range []string{"files", "again"} {
		files, _ := out[k].([]any)
		if len(files) != 3 {
			t.Fatalf("output %s has %d files, want 3: %v", k, len(files), out[k])
		}
		for i, f := range files {
			m := f.(map[string]any)
			if base := filepath.Base(m["path"].(string)); m["basename"] != base || m["location"] != "file://"+m["path"].(string) {
				t.Errorf("output %s[%d] = %v: location, path and basename disagree", k, i, m)
			}
		}
	}
}

// slimFiles leaves alone what its path does not give again.
func TestSlimFilesKeepsWhatIsNotDerived(t *testing.T) {
	own := map[string]any{"class": "File", "path": "/w/x.txt", "location": "file:///w/x.txt", "basename": "x.txt", "dirname": "/w", "nameroot": "y", "nameext": ".txt"}
	literal := map[string]any{"class": "File", "basename": "l.txt", "contents": "hi", "nameroot": "l", "nameext": ".txt"}
	full := map[string]any{"class": "File", "path": "/w/z.txt", "location": "file:///w/z.txt", "basename": "z.txt", "dirname": "/w", "nameroot": "z", "nameext": ".txt", "size": int64(3)}
	got := slimFiles([]any{own, literal, full}).([]any)
	if !reflect.DeepEqual(got[0], own) || !reflect.DeepEqual(got[1], literal) {
		t.Errorf("slimFiles changed objects whose fields are not all derived: %v", got[:2])
	}
	if want := (map[string]any{"class": "File", "path": "/w/z.txt", "basename": "z.txt", "size": int64(3)}); !reflect.DeepEqual(got[2], want) {
		t.Errorf("slimmed %v, want %v", got[2], want)
	}
	if back := withNames(got).([]any); !reflect.DeepEqual(back[2], full) {
		t.Errorf("withNames gave %v, want %v", back[2], full)
	}
	if len(full) != 8 {
		t.Errorf("slimFiles changed the map it was given: %v", full)
	}
}
