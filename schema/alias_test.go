package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A YAML alias inside its own anchor is an error naming the line, not
// endless recursion (found by FuzzParseInputs).
func TestAliasInsideItsAnchorIsAnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "job.yml")
	if err := os.WriteFile(p, []byte("a: &x [1, b: *x]\nb: *x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "job.yml:1:") || !strings.Contains(err.Error(), "inside its own anchor") {
		t.Errorf("Load = %v", err)
	}
}
