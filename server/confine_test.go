package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/server/store"
)

// Attachments are judged by where they lead: a symlink in the run's
// directory, or in a directory of it, that points outside is outside,
// and the refusal names neither the file's contents nor the server's
// paths. Symlinks that stay inside pass.
func TestCheckLocationsResolvesSymlinkedAttachments(t *testing.T) {
	secret := "SECRET-attachment-contents"
	elsewhere := t.TempDir()
	shadow := filepath.Join(elsewhere, "shadow")
	if err := os.WriteFile(shadow, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	runDir := filepath.Join(dataDir, "runs", "r1")
	for name, target := range map[string]string{
		"reads.fq":         shadow,
		"dir/escape":       elsewhere,
		"ok/inner.txt":     "",
		"ok/link-to-inner": filepath.Join(runDir, "ok", "inner.txt"),
	} {
		p := filepath.Join(runDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if target == "" {
			err := os.WriteFile(p, []byte("inside"), 0o600)
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	tool := "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: cat\ninputs: {f: File}\noutputs: []\n"
	if err := os.WriteFile(filepath.Join(runDir, "tool.cwl"), []byte(tool), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(inputs map[string]any) *store.Run {
		return &store.Run{ID: "r1", Team: "lab", Dir: runDir, Workflow: "tool.cwl", Inputs: inputs, Tags: map[string]string{}}
	}
	file := func(loc string) map[string]any { return map[string]any{"class": "File", "location": loc} }
	dir := func(loc string) map[string]any { return map[string]any{"class": "Directory", "location": loc} }
	for name, c := range map[string]struct {
		inputs map[string]any
		want   string // "" when the run may go
	}{
		"a symlinked attachment":            {map[string]any{"f": file("reads.fq")}, `input "f": location "reads.fq" is outside what this run may read`},
		"the same, as a file URI":           {map[string]any{"f": file("file://" + filepath.Join(runDir, "reads.fq"))}, `input "f"`},
		"a directory holding an escape":     {map[string]any{"d": dir("dir")}, `input "d": location "dir" holds the symlink "escape", which is outside`},
		"a symlink through the escape":      {map[string]any{"f": file("dir/escape/shadow")}, `location "dir/escape/shadow" is outside`},
		"a symlink that stays inside":       {map[string]any{"f": file("ok/link-to-inner")}, ""},
		"a directory whose links stay home": {map[string]any{"d": dir("ok")}, ""},
	} {
		err := checkLocations(run(c.inputs), []string{runDir})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case c.want == "":
		case err == nil:
			t.Errorf("%s: not refused", name)
		case !errors.Is(err, errBadRequest) || !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: %v, want a bad request saying %s", name, err, c.want)
		case strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), elsewhere),
			strings.Contains(err.Error(), dataDir) && !strings.Contains(fmt.Sprint(c.inputs), dataDir):
			t.Errorf("%s: the error shows what it should not: %v", name, err)
		}
	}
}
