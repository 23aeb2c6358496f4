package main

import (
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outside makes a directory that no run of the test may read from, with a
// file (secret.txt) and a directory (ssh/, two files) whose contents are a
// random secret that must never show in what flow prints or writes.
func outside(t *testing.T) (dir, secret string) {
	t.Helper()
	b := make([]byte, 12)
	rand.Read(b)
	secret = "SECRET-" + hex.EncodeToString(b)
	dir = t.TempDir()
	writeTestFile(t, filepath.Join(dir, "secret.txt"), secret+"\n")
	writeTestFile(t, filepath.Join(dir, "ssh", "ssh_host_key"), secret+"\n")
	writeTestFile(t, filepath.Join(dir, "ssh", "sshd_config"), secret+"\n")
	return dir, secret
}

func writeTestFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// refused checks that a run failed with exit code 1 and one line that
// says each of want, and that the secret is nowhere: not on stdout or
// stderr, not in any file under dirs.
func refused(t *testing.T, r result, secret string, dirs []string, want ...string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit code %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	lines := stderrLines(r.stderr)
	if len(lines) != 1 {
		t.Errorf("stderr has %d lines, want 1:\n%s", len(lines), r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("the error does not say %q:\n%s", w, r.stderr)
		}
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("the outside file's contents show:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	for _, d := range dirs {
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				if data, _ := os.ReadFile(p); strings.Contains(string(data), secret) {
					t.Errorf("%s holds the outside file's contents", p)
				}
			}
			return nil
		})
	}
}

// A tool's outputs are files of its output directory, or its own inputs:
// an outputEval, a cwl.output.json or a symlink that names any other file
// of the machine fails the step, and the file is not copied into --outdir.
func TestOutputsOutsideTheOutputDirectoryAreRefused(t *testing.T) {
	out, secret := outside(t)
	file, dir := filepath.Join(out, "secret.txt"), filepath.Join(out, "ssh")
	tool := func(cmd, outputs string) string {
		return "cwlVersion: v1.2\nclass: CommandLineTool\nrequirements: {InlineJavascriptRequirement: {}, ShellCommandRequirement: {}}\n" +
			"inputs: []\narguments: [{shellQuote: false, valueFrom: '" + cmd + "'}]\noutputs:\n" + outputs
	}
	cases := []struct{ name, doc string }{
		{"outputEval names a File", tool("true", `  out: {type: File, outputBinding: {outputEval: '$({"class": "File", "path": "`+file+`"})'}}`)},
		{"outputEval names a Directory", tool("true", `  out: {type: Directory, outputBinding: {outputEval: '$({"class": "Directory", "location": "file://`+dir+`"})'}}`)},
		{"cwl.output.json names a File", tool(`echo {\"out\": {\"class\": \"File\", \"path\": \"`+file+`\"}} > cwl.output.json`, "  out: File")},
		{"outputEval names a symlink the tool made", tool("ln -s "+file+" link", `  out: {type: File, outputBinding: {outputEval: '$({"class": "File", "path": runtime.outdir + "/link"})'}}`)},
		{"a Directory output holds a symlink", tool("mkdir d && ln -s "+file+" d/link", "  out: {type: Directory, outputBinding: {glob: d}}")},
		{"a Directory literal lists an outside File", tool("true", `  out: {type: Directory, outputBinding: {outputEval: '$({"class": "Directory", "basename": "d", "listing": [{"class": "File", "location": "file://`+file+`"}]})'}}`)},
		{"ExpressionTool returns a File that is no input", "cwlVersion: v1.2\nclass: ExpressionTool\nrequirements: {InlineJavascriptRequirement: {}}\ninputs: []\noutputs: {out: File}\n" +
			`expression: '$({"out": {"class": "File", "location": "file://` + file + `"}})'` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			doc := filepath.Join(t.TempDir(), "tool.cwl")
			writeTestFile(t, doc, c.doc)
			outdir, work := t.TempDir(), t.TempDir()
			r := flow(t, "run", "--quiet", "--no-provenance", "--outdir", outdir, "--tmpdir-prefix", work, "--leave-tmp", doc)
			why := "outside the job's output directory"
			if strings.Contains(c.doc, "ExpressionTool") {
				why = "is not one of the ExpressionTool's inputs"
			}
			refused(t, r, secret, []string{outdir}, `output "out"`, why)
			if !strings.Contains(c.doc, "ExpressionTool") && !strings.Contains(r.stderr, `step "main"`) {
				t.Errorf("the error does not name the step:\n%s", r.stderr)
			}
		})
	}
}

// Outputs that are the job's own inputs (or inside an input Directory)
// are passed on, by a tool as by an ExpressionTool.
func TestOutputsThatAreInputsPass(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "in.txt"), "hello\n")
	writeTestFile(t, filepath.Join(dir, "d", "inner.txt"), "inner\n")
	docs := map[string]string{
		"tool": "cwlVersion: v1.2\nclass: CommandLineTool\nrequirements: {InlineJavascriptRequirement: {}}\nbaseCommand: \"true\"\n" +
			"inputs: {f: File, d: Directory}\noutputs:\n  same: {type: File, outputBinding: {outputEval: $(inputs.f)}}\n" +
			"  inner: {type: File, outputBinding: {outputEval: '$({\"class\": \"File\", \"location\": inputs.d.location + \"/inner.txt\"})'}}\n",
		"expression": "cwlVersion: v1.2\nclass: ExpressionTool\nrequirements: {InlineJavascriptRequirement: {}}\n" +
			"inputs: {f: File, d: Directory}\noutputs: {same: File, inner: File}\n" +
			"expression: '$({\"same\": inputs.f, \"inner\": {\"class\": \"File\", \"location\": inputs.d.location + \"/inner.txt\"}})'\n",
	}
	for name, text := range docs {
		t.Run(name, func(t *testing.T) {
			doc := filepath.Join(t.TempDir(), "doc.cwl")
			writeTestFile(t, doc, text)
			outdir := t.TempDir()
			r := flow(t, "run", "--quiet", "--no-provenance", "--outdir", outdir, doc, "--f", filepath.Join(dir, "in.txt"), "--d", filepath.Join(dir, "d"))
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, `"same"`) || !strings.Contains(r.stdout, "inner.txt") {
				t.Errorf("outputs: %s", r.stdout)
			}
		})
	}
}
