package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// inputTools are tools that damage their input File in each way a tool
// can: write into it, truncate it, rename it, delete it.
var inputTools = map[string]string{
	"write":    `echo overwritten >> "$(inputs.data.path)"`,
	"truncate": `: > "$(inputs.data.path)"`,
	"rename":   `mv "$(inputs.data.path)" "$(inputs.data.path).bak"`,
	"delete":   `rm "$(inputs.data.path)"`,
}

func inputTool(cmd string) string {
	return `cwlVersion: v1.2
class: CommandLineTool
requirements: {ShellCommandRequirement: {}}
inputs: {data: File}
arguments: [{valueFrom: '` + cmd + `', shellQuote: false}]
outputs: {}
`
}

// checkInputKept runs a tool that damages its input, with the extra
// flags, and checks that the user's file keeps its bytes, or that the
// run fails with one line naming it (writes: it must fail so).
func checkInputKept(t *testing.T, name string, flags []string, writes bool) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tool.cwl"), inputTool(inputTools[name]))
	data := filepath.Join(dir, "data.txt")
	writeFile(t, data, "precious\n")
	env := []string{"XDG_DATA_HOME=" + filepath.Join(dir, "xdg")}
	args := append(append([]string{"run", "--quiet"}, flags...), "--outdir", filepath.Join(dir, "out"), filepath.Join(dir, "tool.cwl"), "--data", data)
	r := flowEnv(t, env, args...)
	if writes {
		// Without a sandbox the write reaches the file through the
		// staged link: flow cannot prevent it, so the job must fail and
		// say which input it changed.
		lines := stderrLines(r.stderr)
		if r.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], data) {
			t.Errorf("%s: exit %d, want 1 with one line naming %s:\n%s", name, r.code, data, r.stderr)
		}
		return
	}
	if got := readFile(t, data); got != "precious\n" {
		t.Errorf("%s: the input now holds %q", name, got)
	}
	if r.code != 0 && len(stderrLines(r.stderr)) != 1 {
		t.Errorf("%s: exit %d, and not one line saying why:\n%s", name, r.code, r.stderr)
	}
}

// Without --sandbox, a tool that renames or deletes its input removes
// only the staged link; one that writes into it or truncates it fails,
// naming the input it changed.
func TestToolDamagingItsInputWithoutSandbox(t *testing.T) {
	for _, name := range []string{"write", "truncate", "rename", "delete"} {
		checkInputKept(t, name, nil, name == "write" || name == "truncate")
	}
}

// With --sandbox inputs are read-only: none of the four changes the
// user's file.
func TestToolDamagingItsInputWithSandbox(t *testing.T) {
	needSandbox(t)
	for _, name := range []string{"write", "truncate", "rename", "delete"} {
		checkInputKept(t, name, []string{"--sandbox"}, false)
	}
}
