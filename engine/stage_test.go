package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// userFiles makes a file and a directory holding one, as a user's inputs.
func userFiles(t *testing.T) (dir, file, sub string) {
	t.Helper()
	dir = t.TempDir()
	file = filepath.Join(dir, "data.txt")
	sub = filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, filepath.Join(sub, "inner.txt")} {
		if err := os.WriteFile(p, []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, file, sub
}

func intact(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if data, err := os.ReadFile(p); err != nil || string(data) != "mine\n" {
			t.Errorf("the user's %s was changed or taken: %v %q", p, err, data)
		}
	}
}

func TestToolCannotRemoveItsInputs(t *testing.T) {
	dir, file, sub := userFiles(t)
	// bzip2 replaces its input with input.bz2; mv and rm take the names
	// the tool was given. (What is inside a Directory is the user's own,
	// through the link, as with other runners that stage by symlink.)
	out, err := run(t, `cwlVersion: v1.2
class: CommandLineTool
requirements:
  ShellCommandRequirement: {}
  LoadListingRequirement: {loadListing: deep_listing}
inputs:
  f: File
  d: Directory
arguments:
  - shellQuote: false
    valueFrom: >
      echo $(inputs.f.path) $(inputs.d.path) $(inputs.d.listing[0].path) > seen.txt &&
      bzip2 -f $(inputs.f.path) && mv $(inputs.f.path).bz2 . &&
      mv $(inputs.d.path) $(inputs.d.path).old && rm -rf $(inputs.d.path).old
outputs:
  packed: {type: File, outputBinding: {glob: data.txt.bz2}}
  seen: {type: File, outputBinding: {glob: seen.txt}}
`, map[string]any{
		"f": map[string]any{"class": "File", "location": "file://" + file},
		"d": map[string]any{"class": "Directory", "location": "file://" + sub},
	})
	if err != nil {
		t.Fatal(err)
	}
	intact(t, file, filepath.Join(sub, "inner.txt"))
	if out["packed"].(map[string]any)["size"].(int64) == 0 {
		t.Error("bzip2 wrote nothing")
	}
	for _, p := range strings.Fields(readOutput(t, out["seen"])) {
		if strings.HasPrefix(p, dir) {
			t.Errorf("the tool was given the user's path %s", p)
		}
	}
}

func TestStagingKeepsInitialWorkDirAndInplaceUpdate(t *testing.T) {
	_, file, _ := userFiles(t)
	in := map[string]any{"f": map[string]any{"class": "File", "location": "file://" + file}}
	// A writable InitialWorkDir entry is a copy: the user's file stays.
	out, err := run(t, `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InitialWorkDirRequirement: {listing: [{entry: $(inputs.f), writable: true}]}
inputs: {f: File}
baseCommand: [sh, -c, "echo more >> data.txt"]
outputs: {out: {type: File, outputBinding: {glob: data.txt}}}
`, in)
	if err != nil {
		t.Fatal(err)
	}
	intact(t, file)
	if got := readOutput(t, out["out"]); got != "mine\nmore\n" {
		t.Errorf("the writable copy holds %q", got)
	}
	// With InplaceUpdateRequirement the tool updates the input itself.
	if _, err := run(t, `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InitialWorkDirRequirement: {listing: [{entry: $(inputs.f), writable: true}]}
  InplaceUpdateRequirement: {inplaceUpdate: true}
inputs: {f: File}
baseCommand: [sh, -c, "echo more >> data.txt"]
outputs: []
`, in); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(file); string(data) != "mine\nmore\n" {
		t.Errorf("in place, the input holds %q", data)
	}
}

// Links a job leaves in its output directory lead to the input itself,
// not into the staging directory, which goes with the run: the step
// cache keeps them, and a later run reuses them.
func TestLinksToStagedInputsOutliveTheRun(t *testing.T) {
	_, file, _ := userFiles(t)
	dir := t.TempDir()
	counter := filepath.Join(dir, "ran")
	doc := `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InitialWorkDirRequirement: {listing: [$(inputs.f)]}
inputs:
  f: File
  counter: {type: string, inputBinding: {position: 1}}
baseCommand: [sh, -c, 'echo x >> "$0"; ln -s "$(readlink data.txt)" made.txt']
outputs:
  iwd: {type: File, outputBinding: {glob: data.txt}}
  made: {type: File, outputBinding: {glob: made.txt}}
`
	in := map[string]any{"f": map[string]any{"class": "File", "location": "file://" + file}, "counter": counter}
	cachedRun(t, dir, doc, filepath.Join(dir, "o1"), in)
	second := cachedRun(t, dir, doc, filepath.Join(dir, "o2"), in)
	if n := runs(t, counter); n != 1 {
		t.Errorf("an unchanged re-run ran the tool %d times, want 1 (reused)", n)
	}
	for _, k := range []string{"iwd", "made"} {
		if got := readOutput(t, second[k]); got != "mine\n" {
			t.Errorf("output %s holds %q", k, got)
		}
	}
}
