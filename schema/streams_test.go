package schema

import (
	"os"
	"path/filepath"
	"testing"
)

// The file of an unnamed stdout output gets the same name on every load,
// and wherever the document is: the step cache recognises a tool by what
// it loads to, and a project moved keeps its cache.
func TestUnnamedStdoutIsStable(t *testing.T) {
	doc := "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: date\ninputs: []\noutputs: {now: stdout, err: stderr}\n"
	var paths []string
	for range 2 {
		path := filepath.Join(t.TempDir(), "tool.cwl")
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	a, err := Load(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Load(paths[1])
	if a.Stdout == nil || a.Stdout != b.Stdout {
		t.Errorf("stdout names differ between loads: %v, %v", a.Stdout, b.Stdout)
	}
	if a.Stdout == a.Stderr {
		t.Errorf("stdout and stderr share the file %v", a.Stdout)
	}
}
