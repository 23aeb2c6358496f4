package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors/local"
	"github.com/flow-cwl/flow/schema"
)

// loadDoc writes a CWL document into a temp dir and loads it.
func loadDoc(t *testing.T, doc string) *schema.Process {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.cwl")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := schema.Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return p
}

// newEngine returns an Engine on the local executor with a temp work dir.
func newEngine(t *testing.T) *Engine {
	t.Helper()
	ex, err := local.New(local.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Executor: ex, Log: zerolog.Nop(), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// run runs doc on inputs and relocates the outputs into a temp outdir.
func run(t *testing.T, doc string, inputs map[string]any) (map[string]any, error) {
	t.Helper()
	e := newEngine(t)
	out, err := e.Run(context.Background(), loadDoc(t, doc), inputs)
	if err != nil {
		return nil, err
	}
	return e.Relocate(context.Background(), out, t.TempDir())
}

func readOutput(t *testing.T, v any) string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("output is %v, not a File", v)
	}
	data, err := os.ReadFile(m["path"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
