package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDeclaredSecondaryFilesAreAlwaysListed(t *testing.T) {
	out, err := run(t, `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, "echo a > a.txt; echo b > b.txt"]
inputs: []
outputs:
  declared:
    type: File
    secondaryFiles: [{pattern: .idx, required: false}]
    outputBinding: {glob: a.txt}
  undeclared: {type: File, outputBinding: {glob: b.txt}}
`, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if sec, ok := out["declared"].(map[string]any)["secondaryFiles"]; !ok || !reflect.DeepEqual(sec, []any{}) {
		t.Errorf("declared, none found: secondaryFiles = %#v (present %v), want []", sec, ok)
	}
	if sec, ok := out["undeclared"].(map[string]any)["secondaryFiles"]; ok {
		t.Errorf("undeclared: secondaryFiles = %#v, want none", sec)
	}

	// An input that declares them gets the list too: expressions count it.
	in := filepath.Join(t.TempDir(), "p.txt")
	if err := os.WriteFile(in, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, `cwlVersion: v1.2
class: ExpressionTool
requirements: {InlineJavascriptRequirement: {}}
inputs:
  f: {type: File, secondaryFiles: [{pattern: .idx, required: false}]}
outputs: {n: int}
expression: '$({"n": inputs.f.secondaryFiles.length})'
`, map[string]any{"f": map[string]any{"class": "File", "location": "file://" + in}})
	if err != nil {
		t.Fatal(err)
	}
	if out["n"] != int64(0) {
		t.Errorf("inputs.f.secondaryFiles.length = %v, want 0", out["n"])
	}
}
