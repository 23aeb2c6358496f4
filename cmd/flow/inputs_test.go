package main

import (
	"os"
	"path/filepath"
	"testing"
)

// bzip2 replaces the file it is given with file.bz2: flow gives it a link
// to the user's file, which stays.
func TestToolRemovingItsInputLeavesTheUsersFile(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "bz.cwl"), `cwlVersion: v1.2
class: CommandLineTool
requirements: {ShellCommandRequirement: {}}
arguments:
  - shellQuote: false
    valueFrom: bzip2 -f $(inputs.f.path) && mv $(inputs.f.path).bz2 .
inputs: {f: File}
outputs: {out: {type: File, outputBinding: {glob: $(inputs.f.basename).bz2}}}
`)
	data := filepath.Join(dir, "data.txt")
	writeTestFile(t, data, "mine\n")
	r := flow(t, "run", "--no-provenance", "--quiet", "--outdir", filepath.Join(dir, "out"), filepath.Join(dir, "bz.cwl"), "--f", data)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(data); err != nil || string(b) != "mine\n" {
		t.Errorf("the user's file is gone or changed: %v %q", err, b)
	}
	if st, err := os.Stat(filepath.Join(dir, "out", "data.txt.bz2")); err != nil || st.Size() == 0 {
		t.Errorf("no compressed output: %v", err)
	}
}
