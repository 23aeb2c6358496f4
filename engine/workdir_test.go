package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors/local"
)

// A work directory given relative to flow's own (--tmpdir-prefix tmp/)
// still hands jobs paths that lead to their inputs: jobs run elsewhere.
func TestRelativeWorkDirStillStagesInputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("input.txt", []byte("four"), 0o644); err != nil {
		t.Fatal(err)
	}
	ex, _ := local.New(local.Options{Logger: zerolog.Nop()})
	e, err := New(Options{Executor: ex, Log: zerolog.Nop(), WorkDir: "tmp"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	out, err := e.Run(context.Background(), loadDoc(t, `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [wc, -c]
inputs: {f: {type: File, inputBinding: {}}}
outputs: {out: stdout}
`), map[string]any{"f": map[string]any{"class": "File", "path": filepath.Join(dir, "input.txt")}})
	if err != nil {
		t.Fatalf("run with a relative work directory: %v", err)
	}
	if got := readOutput(t, out["out"]); !strings.HasPrefix(got, "4 ") {
		t.Errorf("output %q, want the input's 4 bytes counted", got)
	}
}
