package main

import (
	"regexp"
	"strings"
	"testing"
)

// badCase is a malformed document, job file or command line, and what
// the one line of stderr must say about it.
type badCase struct {
	name string
	args []string // after "flow run --outdir DIR"
	code int      // 0 means 1
	// want are substrings of the error line; the first names the file and
	// the line, so a user can jump to the problem.
	want []string
	// wantRe, when set, is a pattern the line must match in addition; for
	// errors that can sensibly point at either of two places.
	wantRe string
}

const bad = "testdata/bad/"

var badCases = []badCase{
	// Documents that do not parse or are not CWL.
	{name: "bad YAML", args: []string{bad + "bad-yaml.cwl"}, want: []string{bad + "bad-yaml.cwl:6:"}},
	{name: "empty document", args: []string{bad + "empty.cwl"}, want: []string{bad + "empty.cwl:1:"}},
	{name: "document is a list", args: []string{bad + "not-a-mapping.cwl"}, want: []string{bad + "not-a-mapping.cwl:1:"}},
	{name: "nonexistent document", args: []string{bad + "no-such-tool.cwl"}, want: []string{bad + "no-such-tool.cwl", "does not exist"}},
	{name: "unknown class", args: []string{bad + "unknown-class.cwl"}, want: []string{bad + "unknown-class.cwl:2:", "field class", "CommandLineTol"}},
	{name: "missing class", args: []string{bad + "missing-class.cwl"}, want: []string{bad + "missing-class.cwl:1:", "class"}},
	{name: "missing cwlVersion", args: []string{bad + "missing-cwlversion.cwl"}, want: []string{bad + "missing-cwlversion.cwl:1:", "cwlVersion"}},
	{name: "unknown cwlVersion", args: []string{bad + "bad-cwlversion.cwl"}, want: []string{bad + "bad-cwlversion.cwl:1:", "field cwlVersion", "v0.9"}},
	{name: "wrong type in a field", args: []string{bad + "wrong-field-type.cwl"}, want: []string{bad + "wrong-field-type.cwl:7:", "field stdout"}},
	{name: "inputs not a list", args: []string{bad + "inputs-not-list.cwl"}, want: []string{bad + "inputs-not-list.cwl:4:", "field inputs"}},
	{name: "unknown type name", args: []string{bad + "unknown-type.cwl"}, want: []string{bad + "unknown-type.cwl:6:", "field inputs.reads.type", `"Fiel"`}},
	{name: "duplicate input ids", args: []string{bad + "duplicate-ids.cwl"}, want: []string{bad + "duplicate-ids.cwl:7:", "msg"}},
	{name: "unknown requirement", args: []string{bad + "unknown-requirement.cwl"}, code: 33, want: []string{bad + "unknown-requirement.cwl:4:", "QuantumComputingRequirement"}},
	{name: "bad JavaScript", args: []string{bad + "bad-js.cwl"}, want: []string{bad + "bad-js.cwl:7:", "arguments"}},
	{name: "missing $import", args: []string{bad + "bad-import.cwl"}, want: []string{bad + "bad-import.cwl:5:", "no-such-inputs.yml"}},
	{name: "missing $include", args: []string{bad + "bad-include.cwl"}, want: []string{bad + "bad-include.cwl:6:", "no-such-script.txt"}},
	{name: "unknown #fragment", args: []string{bad + "bad-fragment.cwl#nosuch"}, want: []string{bad + "bad-fragment.cwl:", "#nosuch"}},

	// Workflows whose steps do not fit together.
	{name: "cycle between steps", args: []string{bad + "cycle.cwl"}, want: []string{bad + "cycle.cwl:", "cycle", "field steps."}, wantRe: `cycle\.cwl:(7|8|12|13):`},
	{name: "dangling step source", args: []string{bad + "dangling-source.cwl"}, want: []string{bad + "dangling-source.cwl:10:", "field steps.say.in.msg", "shout/out"}},
	{name: "dangling output source", args: []string{bad + "dangling-output.cwl"}, want: []string{bad + "dangling-output.cwl:", "field outputs.result", "say/nothing"}, wantRe: `dangling-output\.cwl:[5-7]:`},
	{name: "duplicate step ids", args: []string{bad + "duplicate-steps.cwl"}, want: []string{bad + "duplicate-steps.cwl:11:", `"say"`}},
	{name: "step without run", args: []string{bad + "step-no-run.cwl"}, want: []string{bad + "step-no-run.cwl:", "field steps.say.run"}, wantRe: `step-no-run\.cwl:[78]:`},
	{name: "step runs a missing file", args: []string{bad + "step-run-missing.cwl"}, want: []string{bad + "step-run-missing.cwl:8:", "no-such-tool.cwl"}},
	{name: "scatter over unknown input", args: []string{bad + "scatter-unknown.cwl"}, want: []string{bad + "scatter-unknown.cwl:13:", "field steps.say.scatter", "message"}},
	{name: "steps not a list", args: []string{bad + "steps-not-list.cwl"}, want: []string{bad + "steps-not-list.cwl:5:", "field steps"}},

	// Job files and input values.
	{name: "missing required input", args: []string{bad + "tool.cwl", bad + "missing-input.yml"}, want: []string{`"msg"`}, wantRe: `(tool\.cwl:[67]:|missing-input\.yml:1:)`},
	{name: "missing required input, no job", args: []string{bad + "tool.cwl", "--n", "3", "--reads", bad + "data.txt"}, want: []string{bad + "tool.cwl:", `"msg"`}, wantRe: `tool\.cwl:[67]:`},
	{name: "input of wrong type", args: []string{bad + "tool.cwl", bad + "wrong-input-type.yml"}, want: []string{bad + "wrong-input-type.yml:2:", `"n"`, "three"}},
	{name: "number where a File goes", args: []string{bad + "tool.cwl", bad + "file-input-not-file.yml"}, want: []string{bad + "file-input-not-file.yml:3:", `"reads"`}},
	{name: "File where a Directory goes", args: []string{bad + "tool.cwl", bad + "dir-given-file.yml"}, want: []string{bad + "dir-given-file.yml:4:", `"refdir"`}},
	{name: "missing input file", args: []string{bad + "tool.cwl", bad + "missing-file.yml"}, want: []string{bad + "missing-file.yml:3:", "no-such-reads.fq"}},
	{name: "invalid enum value", args: []string{bad + "tool.cwl", bad + "bad-enum.yml"}, want: []string{bad + "bad-enum.yml:4:", `"mode"`, "fastest"}},
	{name: "job file is a list", args: []string{bad + "tool.cwl", bad + "job-is-list.yml"}, want: []string{bad + "job-is-list.yml:1:"}},
	{name: "job file is bad YAML", args: []string{bad + "tool.cwl", bad + "bad-job-yaml.yml"}, want: []string{bad + "bad-job-yaml.yml:"}, wantRe: `bad-job-yaml\.yml:[1-3]:`},
	{name: "job file is bad JSON", args: []string{bad + "tool.cwl", bad + "bad-job-json.json"}, want: []string{bad + "bad-job-json.json:"}, wantRe: `bad-job-json\.json:[23]:`},
	{name: "nonexistent job file", args: []string{bad + "tool.cwl", bad + "no-such-job.yml"}, want: []string{bad + "no-such-job.yml", "does not exist"}},
	{name: "unknown input flag", args: []string{bad + "tool.cwl", bad + "good.yml", "--nosuch", "1"}, want: []string{bad + "tool.cwl", `"nosuch"`, "msg, n, reads, mode, refdir"}},
	{name: "input flag of wrong type", args: []string{bad + "tool.cwl", bad + "good.yml", "--n", "abc"}, want: []string{bad + "tool.cwl", "--n", `"abc" is not a whole number`}},
}

// TestMalformed runs flow on each malformed case and checks what a user
// sees: the exit code, and one line on stderr that says where the problem
// is, never a stack trace.
func TestMalformed(t *testing.T) {
	if len(badCases) < 25 {
		t.Fatalf("only %d malformed cases", len(badCases))
	}
	for _, c := range badCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"run", "--outdir", t.TempDir(), "--tmpdir-prefix", t.TempDir()}, c.args...)
			r := flow(t, args...)
			want := c.code
			if want == 0 {
				want = 1
			}
			if r.code != want {
				t.Errorf("exit code %d, want %d", r.code, want)
			}
			for _, bad := range []string{"goroutine", "panic", "runtime error", "internal error"} {
				if strings.Contains(r.stderr, bad) {
					t.Fatalf("stderr mentions %q:\n%s", bad, r.stderr)
				}
			}
			lines := stderrLines(r.stderr)
			if len(lines) != 1 {
				t.Fatalf("stderr has %d lines, want 1:\n%s", len(lines), r.stderr)
			}
			line := lines[0]
			if !strings.HasPrefix(line, "flow: ") {
				t.Errorf("the error line does not start with \"flow: \": %s", line)
			}
			for _, w := range c.want {
				if !strings.Contains(line, w) {
					t.Errorf("the error line does not mention %q:\n%s", w, line)
				}
			}
			if c.wantRe != "" && !regexp.MustCompile(c.wantRe).MatchString(line) {
				t.Errorf("the error line does not match %s:\n%s", c.wantRe, line)
			}
			if r.stdout != "" {
				t.Errorf("stdout is not empty:\n%s", r.stdout)
			}
		})
	}
}
