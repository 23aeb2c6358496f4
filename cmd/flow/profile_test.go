package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FLOW_CPU_PROFILE=FILE leaves a CPU profile of the command in FILE (Go's
// pprof format: a gzipped protocol buffer whose string table names the
// samples' unit), and an unwritable FILE is one line on stderr, not a
// failed command.
func TestCPUProfile(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "echo.cwl")
	os.WriteFile(tool, []byte("cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [echo, hi]\ninputs: []\noutputs: {out: stdout}\n"), 0o644)
	prof := filepath.Join(dir, "run.prof")
	r := flowEnv(t, []string{"FLOW_CPU_PROFILE=" + prof}, "run", "--quiet", "--no-provenance", "--outdir", filepath.Join(dir, "out"), tool)
	if r.code != 0 {
		t.Fatalf("flow run exited %d: %s", r.code, r.stderr)
	}
	f, err := os.Open(prof)
	if err != nil {
		t.Fatalf("no profile: %v", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the profile is not pprof's gzipped format: %v", err)
	}
	data, err := io.ReadAll(z)
	if err != nil || !bytes.Contains(data, []byte("nanoseconds")) || !bytes.Contains(data, []byte("cpu")) {
		t.Fatalf("the profile holds no CPU samples' description (%d bytes, %v)", len(data), err)
	}

	r = flowEnv(t, []string{"FLOW_CPU_PROFILE=" + filepath.Join(dir, "missing", "run.prof")}, "version")
	if r.code != 0 || len(stderrLines(r.stderr)) != 1 || !strings.Contains(r.stderr, "FLOW_CPU_PROFILE") {
		t.Errorf("with an unwritable profile flow version exited %d and said %q; want 0 and one line naming FLOW_CPU_PROFILE", r.code, r.stderr)
	}
}
