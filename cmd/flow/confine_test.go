package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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

// With --allow-path, every file a run reads (documents, inputs, defaults,
// secondary files, InitialWorkDir entries, files that expressions name)
// must lead inside one of the directories: anything else is one line and
// exit code 1, before the file is read.
func TestAllowPathConfinesWhatARunReads(t *testing.T) {
	out, secret := outside(t)
	file, dir := filepath.Join(out, "secret.txt"), filepath.Join(out, "ssh")
	cat := "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: cat\ninputs: {f: {type: File, inputBinding: {}}}\noutputs: {out: stdout}\n"
	ls := "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [ls, -R]\ninputs: {d: {type: Directory, inputBinding: {}}}\noutputs: {out: stdout}\n"
	cases := []struct {
		name  string
		files map[string]string // in the allowed directory; "tool.cwl" runs
		args  []string          // after the document; "@" is the allowed directory
		want  string            // in the error line, besides "is outside what this run may read"
	}{
		{name: "File input", files: map[string]string{"tool.cwl": cat}, args: []string{"--f", file}, want: `input "f"`},
		{name: "File input in a job file", files: map[string]string{"tool.cwl": cat, "job.yml": "f: {class: File, location: 'file://" + file + "'}\n"}, args: []string{"@/job.yml"}, want: "job.yml:1:"},
		{name: "symlink to an outside file", files: map[string]string{"tool.cwl": cat, "link->": file}, args: []string{"--f", "@/link"}, want: `input "f"`},
		{name: "Directory input", files: map[string]string{"tool.cwl": ls}, args: []string{"--d", dir}, want: `input "d"`},
		{name: "secondary file", files: map[string]string{"tool.cwl": cat, "in.txt": "x", "job.yml": "f: {class: File, location: in.txt, secondaryFiles: [{class: File, location: 'file://" + file + "'}]}\n"}, args: []string{"@/job.yml"}, want: `input "f"`},
		{name: "a Directory literal's listing", files: map[string]string{"tool.cwl": ls, "job.yml": "d: {class: Directory, basename: d, listing: [{class: File, location: 'file://" + file + "'}]}\n"}, args: []string{"@/job.yml"}, want: `input "d"`},
		{name: "$import", files: map[string]string{"tool.cwl": strings.Replace(cat, "outputs: {out: stdout}", "outputs: {out: {$import: '"+file+"'}}", 1)}, want: "field $import"},
		{name: "$include", files: map[string]string{"tool.cwl": strings.Replace(cat, "baseCommand: cat", "baseCommand: {$include: '"+file+"'}", 1)}, want: "field $include"},
		{name: "run: of an outside document", files: map[string]string{"tool.cwl": "cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps: {s: {run: '" + file + "', in: {}, out: []}}\n"}, want: "steps.s.run"},
		{name: "default", files: map[string]string{"tool.cwl": strings.Replace(cat, "inputBinding: {}", "inputBinding: {}, default: {class: File, location: '"+file+"'}", 1)}, want: "tool.cwl:4:"},
		{name: "InitialWorkDir entry from an expression", files: map[string]string{"tool.cwl": "cwlVersion: v1.2\nclass: CommandLineTool\nrequirements: {InlineJavascriptRequirement: {}, InitialWorkDirRequirement: {listing: ['$({\"class\": \"File\", \"location\": \"file://" + file + "\"})']}}\nbaseCommand: [cat, secret.txt]\ninputs: []\noutputs: {out: stdout}\n"}, want: "InitialWorkDirRequirement"},
		{name: "a step's valueFrom makes a File", files: map[string]string{"cat.cwl": cat, "tool.cwl": "cwlVersion: v1.2\nclass: Workflow\nrequirements: {InlineJavascriptRequirement: {}, StepInputExpressionRequirement: {}}\ninputs: []\noutputs: {o: {type: File, outputSource: s/out}}\nsteps: {s: {run: cat.cwl, in: {f: {valueFrom: '$({\"class\": \"File\", \"location\": \"file://" + file + "\"})'}}, out: [out]}}\n"}, want: `input "f"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			allowed := t.TempDir()
			for name, text := range c.files {
				if target, ok := strings.CutSuffix(name, "->"); ok {
					if err := os.Symlink(text, filepath.Join(allowed, target)); err != nil {
						t.Fatal(err)
					}
					continue
				}
				writeTestFile(t, filepath.Join(allowed, name), text)
			}
			outdir, work := t.TempDir(), t.TempDir()
			args := []string{"run", "--quiet", "--no-provenance", "--outdir", outdir, "--tmpdir-prefix", work, "--leave-tmp",
				"--allow-path", allowed, "--allow-path", work, filepath.Join(allowed, "tool.cwl")}
			for _, a := range c.args {
				args = append(args, strings.ReplaceAll(a, "@", allowed))
			}
			r := flow(t, args...)
			refused(t, r, secret, []string{outdir, work}, "is outside what this run may read", c.want)
		})
	}
}

// The same runs read what is inside the allowed directories, symlinks
// that stay inside included.
func TestAllowPathLetsInsideFilesThrough(t *testing.T) {
	allowed, data := t.TempDir(), t.TempDir()
	writeTestFile(t, filepath.Join(allowed, "tool.cwl"), "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: cat\n"+
		"inputs: {f: {type: File, inputBinding: {}, secondaryFiles: [.idx]}, g: {type: File, inputBinding: {}, default: {class: File, location: in.txt}}}\noutputs: {out: stdout}\n")
	writeTestFile(t, filepath.Join(allowed, "in.txt"), "one\n")
	writeTestFile(t, filepath.Join(data, "ref.txt"), "two\n")
	writeTestFile(t, filepath.Join(data, "ref.txt.idx"), "")
	if err := os.Symlink(filepath.Join(data, "ref.txt"), filepath.Join(allowed, "ref-link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(data, "ref.txt.idx"), filepath.Join(allowed, "ref-link.txt.idx")); err != nil {
		t.Fatal(err)
	}
	outdir := t.TempDir()
	r := flow(t, "run", "--quiet", "--no-provenance", "--outdir", outdir, "--allow-path", allowed, "--allow-path", data,
		filepath.Join(allowed, "tool.cwl"), "--f", filepath.Join(allowed, "ref-link.txt"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var obj struct{ Out struct{ Path string } }
	if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil {
		t.Fatalf("output object: %v\n%s", err, r.stdout)
	}
	if got, err := os.ReadFile(obj.Out.Path); err != nil || string(got) != "two\none\n" {
		t.Errorf("the tool read %q (%v), want the linked data file, then the default", got, err)
	}
}

// What a run makes itself (a step's outputs, in its work directory or
// in the step cache; an ExpressionTool's literals) later steps read
// under --allow-path, in a first run and in one that reuses the cache.
func TestAllowPathLetsARunReadWhatItMade(t *testing.T) {
	allowed, db := t.TempDir(), filepath.Join(t.TempDir(), "flow.db")
	writeTestFile(t, filepath.Join(allowed, "echo.cwl"), writeOutTool)
	writeTestFile(t, filepath.Join(allowed, "cat.cwl"), "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: cat\n"+
		"inputs: {f: {type: File, inputBinding: {}}}\nstdout: out.txt\noutputs: {out: {type: File, outputBinding: {glob: out.txt}}}\n")
	writeTestFile(t, filepath.Join(allowed, "wf.cwl"), `cwlVersion: v1.2
class: Workflow
requirements: {InlineJavascriptRequirement: {}}
inputs: {text: string}
outputs:
  made: {type: File, outputSource: read/out}
  literal: {type: File, outputSource: readLiteral/out}
steps:
  write: {run: echo.cwl, in: {text: text}, out: [out]}
  read: {run: cat.cwl, in: {f: write/out}, out: [out]}
  makeLiteral:
    run:
      class: ExpressionTool
      inputs: {text: string}
      outputs: {out: File}
      expression: '$({"out": {"class": "File", "basename": "lit.txt", "contents": inputs.text + "!"}})'
    in: {text: text}
    out: [out]
  readLiteral: {run: cat.cwl, in: {f: makeLiteral/out}, out: [out]}
`)
	for _, attempt := range []string{"first", "from the cache"} {
		outdir := t.TempDir()
		r := flow(t, "run", "--quiet", "--db", db, "--outdir", outdir, "--allow-path", allowed, filepath.Join(allowed, "wf.cwl"), "--text", "hello")
		if r.code != 0 {
			t.Fatalf("%s run: exit %d: %s", attempt, r.code, r.stderr)
		}
		var out struct{ Made, Literal struct{ Path string } }
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%s run: %v\n%s", attempt, err, r.stdout)
		}
		for path, want := range map[string]string{out.Made.Path: "hello\n", out.Literal.Path: "hello!"} {
			if got, err := os.ReadFile(path); err != nil || string(got) != want {
				t.Errorf("%s run: %s holds %q (%v), want %q", attempt, path, got, err, want)
			}
		}
	}
}

// writeOutTool writes its text input to out.txt.
const writeOutTool = "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs: {text: {type: string, inputBinding: {}}}\n" +
	"stdout: out.txt\noutputs: {out: {type: File, outputBinding: {glob: out.txt}}}\n"
