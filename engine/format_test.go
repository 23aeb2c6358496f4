package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nullFormatTool's input format is an expression that may give null, and
// its output's format is the input's, which may be missing.
const nullFormatTool = `cwlVersion: v1.2
class: CommandLineTool
requirements: {InlineJavascriptRequirement: {}}
baseCommand: cat
inputs:
  f: {type: File, format: '$(inputs.want)', inputBinding: {}}
  want: Any?
stdout: out.txt
outputs:
  out: {type: File, outputBinding: {glob: out.txt}, format: '$(self.basename == "out.txt" ? inputs.f.format : "wrong")'}
`

func TestFormatExpressionGivingNull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.txt")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := func(format string) map[string]any {
		f := map[string]any{"class": "File", "location": "file://" + path}
		if format != "" {
			f["format"] = format
		}
		return f
	}
	// Null accepts any file, as a format left out does; the output takes
	// the input's format (self is the output file), or none.
	out, err := run(t, nullFormatTool, map[string]any{"f": file("http://e/csv"), "want": nil})
	if err != nil {
		t.Fatalf("format null, file with a format: %v", err)
	}
	if got := out["out"].(map[string]any)["format"]; got != "http://e/csv" {
		t.Errorf("output format = %v, want the input's", got)
	}
	out, err = run(t, nullFormatTool, map[string]any{"f": file(""), "want": nil})
	if err != nil {
		t.Fatalf("format null, file without one: %v", err)
	}
	if got, ok := out["out"].(map[string]any)["format"]; ok {
		t.Errorf("output format = %v, want none", got)
	}
	// A format still constrains; a value that is no IRI is an error.
	if _, err := run(t, nullFormatTool, map[string]any{"f": file("http://e/csv"), "want": []any{nil, "http://e/tsv"}}); err == nil || !strings.Contains(err.Error(), "accepts http://e/tsv") {
		t.Errorf("format [null, tsv], file in csv: want a format error, got %v", err)
	}
	if _, err := run(t, nullFormatTool, map[string]any{"f": file("http://e/csv"), "want": int64(3)}); err == nil || !strings.Contains(err.Error(), "must give a format IRI") {
		t.Errorf("format 3: want an error, got %v", err)
	}
}
