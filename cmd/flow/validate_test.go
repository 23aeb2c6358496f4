package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

const vdir = "testdata/validate/"

// Documents other CWL runners load are valid to flow validate too, and
// documents they refuse are refused by it, in one line naming the file,
// line, column and field, before anything could run.
func TestValidateDocumentClasses(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		// code is the exit code; want is the whole of stderr (one line, or
		// none); stdout is "... is valid CWL (...)" exactly when code is 0.
		code int
		want string
	}{
		// Accepted.
		{name: "optional type in a flow mapping", args: []string{vdir + "optional-in-flow-map.cwl"}},
		{name: "inputBinding and outputBinding given as null", args: []string{vdir + "null-binding.cwl"}},
		{name: "neither baseCommand nor arguments", args: []string{vdir + "no-base-command.cwl"}},
		{name: "Directory[] scattered into Directory, merge_flattened into Directory[]", args: []string{vdir + "dirs-scattered.cwl"}},
		{name: "development cwlVersion with --enable-dev", args: []string{"--enable-dev", vdir + "dev-version.cwl"}},
		{name: "each process of a $graph without #main", args: []string{vdir + "graph-no-main.cwl"}},
		{name: "extension fields with a namespace prefix", args: []string{vdir + "extension-fields.cwl"}},
		{name: "optional source into a required input warns", args: []string{vdir + "optional-into-required.cwl"},
			want: `flow: warning: testdata/validate/optional-into-required.cwl:11:13: field steps.say.in.word: source "w" of type string? may not fit "word" of type string`},

		// Refused.
		{name: "step leaves a required input unset", args: []string{vdir + "step-missing-input.cwl"}, code: 1,
			want: `flow: testdata/validate/step-missing-input.cwl:11:7: field steps.say.in: the step leaves the required input "word" of its process unset (give a source, a default or a valueFrom)`},
		{name: "step input with no source, default or valueFrom", args: []string{vdir + "step-input-unset.cwl"}, code: 1,
			want: `flow: testdata/validate/step-input-unset.cwl:11:13: field steps.say.in.word: the required input "word" has no source, default or valueFrom`},
		{name: "step out names no output of its process", args: []string{vdir + "step-unknown-output.cwl"}, code: 1,
			want: `flow: testdata/validate/step-unknown-output.cwl:11:17: field steps.say.out: the step's process has no output "shouted" (it has said)`},
		{name: "Directory[] into Directory", args: []string{vdir + "dirs-into-dir.cwl"}, code: 1,
			want: `flow: testdata/validate/dirs-into-dir.cwl:12:14: field steps.say.in.place: source "ds" of type Directory[] cannot flow into "place" of type Directory`},
		{name: "File into string", args: []string{vdir + "file-into-string.cwl"}, code: 1,
			want: `flow: testdata/validate/file-into-string.cwl:12:9: field steps.say.in.word: source "f" of type File cannot flow into "word" of type string`},
		{name: "outputBinding with type stdout", args: []string{vdir + "stdout-with-binding.cwl"}, code: 1,
			want: `flow: testdata/validate/stdout-with-binding.cwl:9:7: field outputs.now.outputBinding: not allowed with type stdout, which collects the tool's stdout itself`},
		{name: "development cwlVersion", args: []string{vdir + "dev-version.cwl"}, code: 1,
			want: `flow: testdata/validate/dev-version.cwl:1:13: field cwlVersion: "v1.2.0-dev5" is a development version; update the document to a released one (v1.0, v1.1, v1.2) or pass --enable-dev`},
		{name: "a process of a $graph without #main", args: []string{vdir + "graph-no-main-bad.cwl"}, code: 1,
			want: `flow: testdata/validate/graph-no-main-bad.cwl:13:41: field steps.first.in.word: source "w" of type File cannot flow into "word" of type string`},
		{name: "[] twice in a type", args: []string{vdir + "nested-shorthand.cwl"}, code: 1,
			want: `flow: testdata/validate/nested-shorthand.cwl:5:11: field inputs.groups.type: unknown type "File[][]": CWL v1.2 reads [] and ? once each after a type name; write the type out ({type: array, items: {type: array, items: File}} for a list of lists)`},
		{name: "[] in the items of an array type", args: []string{vdir + "items-shorthand.cwl"}, code: 1,
			want: `flow: testdata/validate/items-shorthand.cwl:6:32: field inputs.groups.type.items: unknown type "File[]": CWL v1.2 does not read the [] and ? shorthands in items; write the type out ({type: array, items: File} for a list, ["null", File] for an optional type)`},
		{name: "scatter without ScatterFeatureRequirement", args: []string{vdir + "scatter-no-feature.cwl"}, code: 1,
			want: `flow: testdata/validate/scatter-no-feature.cwl:9:5: field steps.say.scatter: a scattered step needs ScatterFeatureRequirement in the workflow's requirements`},
		{name: "scatter over two inputs without scatterMethod", args: []string{vdir + "scatter-no-method.cwl"}, code: 1,
			want: `flow: testdata/validate/scatter-no-method.cwl:11:5: field steps.say.scatterMethod: missing; a step scattered over several inputs must say how to combine them (dotproduct, nested_crossproduct or flat_crossproduct)`},
		{name: "subworkflow without SubworkflowFeatureRequirement", args: []string{vdir + "subworkflow-no-feature.cwl"}, code: 1,
			want: `flow: testdata/validate/subworkflow-no-feature.cwl:9:5: field steps.inner.run: a step that runs a workflow needs SubworkflowFeatureRequirement in the workflow's requirements`},
		{name: "misspelt field", args: []string{vdir + "misspelt-field.cwl"}, code: 1,
			want: `flow: testdata/validate/misspelt-field.cwl:7:5: field inputs.word.inputbinding: unknown field of a parameter; did you mean inputBinding? (an extension field needs a namespace prefix, like ex:inputbinding)`},
		{name: "misspelt linkMerge value", args: []string{vdir + "misspelt-link-merge.cwl"}, code: 1,
			want: `flow: testdata/validate/misspelt-link-merge.cwl:12:16: field outputs.all.linkMerge: unknown value "merge_flatened"; expected merge_nested, merge_flattened (did you mean merge_flattened?)`},
		{name: "YAML error at its token", args: []string{vdir + "flow-map-missing-comma.cwl"}, code: 1,
			want: `flow: testdata/validate/flow-map-missing-comma.cwl:5:35: invalid YAML: did not find expected ',' or '}'`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := flowIn(t, append([]string{"validate"}, c.args...)...)
			if r.code != c.code {
				t.Errorf("exit code %d, want %d", r.code, c.code)
			}
			if got := strings.TrimSuffix(r.stderr, "\n"); got != c.want {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, c.want)
			}
			doc := c.args[len(c.args)-1]
			if valid := strings.HasPrefix(r.stdout, doc+" is valid CWL ("); valid != (c.code == 0) {
				t.Errorf("stdout %q with exit code %d", r.stdout, r.code)
			}
		})
	}
}

// The same checks run before any step: flow run refuses such a workflow
// with the same line, and runs nothing.
func TestRunRefusesBeforeAnyStep(t *testing.T) {
	out := t.TempDir()
	r := flowIn(t, "run", "--no-provenance", "--outdir", out, vdir+"dirs-into-dir.cwl", "--w", "hi", "--ds", t.TempDir())
	if r.code != 1 {
		t.Errorf("exit code %d, want 1", r.code)
	}
	want := `flow: testdata/validate/dirs-into-dir.cwl:12:14: field steps.say.in.place: source "ds" of type Directory[] cannot flow into "place" of type Directory`
	if lines := stderrLines(r.stderr); len(lines) != 1 || lines[0] != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("stdout: %s", r.stdout)
	}
}

// A tool without baseCommand runs its first bound input as the command.
func TestRunWithoutBaseCommand(t *testing.T) {
	out := t.TempDir()
	r := flowIn(t, "run", "--no-provenance", "--quiet", "--outdir", out, vdir+"no-base-command.cwl", "--program", "true", "--word", "x")
	if r.code != 0 {
		t.Fatalf("exit code %d: %s", r.code, r.stderr)
	}
}

// cwltoolRefuses are the documents of the CWL v1.2 conformance suite that
// cwltool 3.1's --validate refuses; it accepts the other 336.
var cwltoolRefuses = []string{
	"tests/conditionals/cond-wf-005.cwl",
	"tests/conditionals/cond-wf-005_nojs.cwl",
	"tests/mixed-versions/invalid-tool-v10.cwl",
	"tests/mixed-versions/invalid-tool-v11.cwl",
	"tests/mixed-versions/invalid-wf-v10.cwl",
	"tests/mixed-versions/invalid-wf-v11.cwl",
	"tests/mixed-versions/invalid-wf-v12.cwl",
	"tests/template-tool.cwl",
}

// flow validate gives every document of the conformance suite the verdict
// cwltool gives it: the suite is full of valid documents of every kind,
// which a check must not refuse, and holds a few it must.
func TestSuiteDocumentsValidateAsCWLRunnersDo(t *testing.T) {
	suite := os.Getenv("CWL_SUITE")
	if suite == "" {
		suite = "../../../shared/cwl-v1.2"
	}
	var docs []string
	filepath.WalkDir(filepath.Join(suite, "tests"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".cwl") {
			docs = append(docs, p)
		}
		return nil
	})
	if len(docs) < 300 {
		testenv.SkipOrFail(t, "no CWL conformance suite at "+suite+" (set CWL_SUITE)")
	}
	for _, doc := range docs {
		rel, _ := filepath.Rel(suite, doc)
		err := validate(doc, loadOptions{}, io.Discard, io.Discard)
		if want := slices.Contains(cwltoolRefuses, filepath.ToSlash(rel)); (err != nil) != want {
			t.Errorf("%s: flow validate says %v; cwltool %s it", rel, err, map[bool]string{true: "refuses", false: "accepts"}[want])
		}
	}
}
