package schema

import (
	"os"
	"path/filepath"
	"testing"
)

// The file of an unnamed stdout output gets the same name on every load:
// the step cache recognises a tool by what it loads to.
func TestUnnamedStdoutIsStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tool.cwl")
	doc := "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: date\ninputs: []\noutputs: {now: stdout, err: stderr}\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Load(path)
	if a.Stdout != b.Stdout || a.Stdout == nil {
		t.Errorf("stdout names differ between loads: %v, %v", a.Stdout, b.Stdout)
	}
	if a.Stdout == a.Stderr {
		t.Errorf("stdout and stderr share the file %v", a.Stdout)
	}
}
