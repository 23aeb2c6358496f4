package schema_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/flow-cwl/flow/schema"
)

// seedDocs are small documents that reach most of the loader: each class,
// map and list forms, shorthands, $graph, SchemaDefRequirement, when and
// scatter. Conformance documents are added when the suite is at hand.
var seedDocs = []string{
	"cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs:\n  msg:\n    type: string\n    inputBinding: {position: 1}\nstdout: out.txt\noutputs:\n  out: stdout\n",
	"cwlVersion: v1.2\nclass: ExpressionTool\nrequirements: {InlineJavascriptRequirement: {}}\ninputs: {n: int}\noutputs: {m: int}\nexpression: '$({\"m\": inputs.n + 1})'\n",
	"cwlVersion: v1.2\nclass: Workflow\nrequirements: [{class: ScatterFeatureRequirement}]\ninputs:\n  xs: string[]\noutputs:\n  ys:\n    type: string[]\n    outputSource: s/out\nsteps:\n  s:\n    run:\n      class: CommandLineTool\n      baseCommand: echo\n      inputs: {x: string}\n      outputs: {out: {type: string, outputBinding: {outputEval: $(inputs.x)}}}\n    scatter: x\n    when: $(inputs.x != 'a')\n    in: {x: xs}\n    out: [out]\n",
	"cwlVersion: v1.0\n$graph:\n- id: main\n  class: Workflow\n  inputs: []\n  outputs: []\n  steps: []\n- id: tool\n  class: CommandLineTool\n  inputs:\n  - id: e\n    type: {type: enum, symbols: [a, b]}\n  outputs: []\n",
	"cwlVersion: v1.2\nclass: CommandLineTool\nrequirements:\n  SchemaDefRequirement:\n    types:\n    - name: Rec\n      type: record\n      fields: {a: int, b: 'string[]?'}\ninputs:\n  r: Rec\noutputs: []\n",
	"{\"cwlVersion\": \"v1.2\", \"class\": \"Operation\", \"inputs\": [], \"outputs\": []}",
	"",
	"- a\n- b\n",
	"cwlVersion: v1.2\nclass: CommandLineTool\ninputs:\n  $import: other.yml\noutputs: []\n",
}

var seedJobs = []string{
	"msg: hello\nn: 3\nf: {class: File, location: a.txt}\n",
	"{\"xs\": [1, 2.5, true, null], \"d\": {\"class\": \"Directory\", \"path\": \"dir\"}}",
	"cwl:requirements:\n  - class: EnvVarRequirement\n    envDef: {A: b}\nx: [a, {b: c}]\n",
	"f:\n  class: File\n  contents: abc\n  secondaryFiles:\n    - {class: File, location: b.txt}\n",
	"",
	"- 1\n",
	"a: &x [1]\nb: *x\n",
}

// addSuiteSeeds adds the first few documents (or job files) of the CWL
// conformance suite, when it is checked out next to the repository.
func addSuiteSeeds(f *testing.F, pattern string, n int) {
	suite := os.Getenv("CWL_SUITE")
	if suite == "" {
		suite = filepath.Join("..", "..", "shared", "cwl-v1.2")
	}
	paths, _ := filepath.Glob(filepath.Join(suite, "tests", pattern))
	for i, p := range paths {
		if i == n {
			break
		}
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

// safe rejects inputs that name device or proc files: loading one through
// $import or $include would block or read forever, which is not a bug.
func safe(data []byte) bool {
	return !bytes.Contains(data, []byte("/dev")) && !bytes.Contains(data, []byte("/proc")) &&
		!bytes.Contains(data, []byte("/sys"))
}

// FuzzLoad checks that no document makes the loader or Check panic, and
// that they return either a process or an error with a message.
func FuzzLoad(f *testing.F) {
	for _, d := range seedDocs {
		f.Add([]byte(d))
	}
	addSuiteSeeds(f, "*.cwl", 40)
	f.Fuzz(func(t *testing.T, data []byte) {
		if !safe(data) {
			t.Skip()
		}
		path := filepath.Join(t.TempDir(), "doc.cwl")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := schema.Load(path)
		switch {
		case err != nil && err.Error() == "":
			t.Fatal("Load returned an error with no message")
		case err == nil && p == nil:
			t.Fatal("Load returned neither a process nor an error")
		case err == nil:
			if _, err := schema.Check(p); err != nil && err.Error() == "" {
				t.Fatal("Check returned an error with no message")
			}
		}
	})
}

// FuzzParseInputs checks that no input object makes the parser panic, and
// that every value it returns is one of the plain types of
// docs/CONVENTIONS.md.
func FuzzParseInputs(f *testing.F) {
	for _, j := range seedJobs {
		f.Add([]byte(j))
	}
	addSuiteSeeds(f, "*.json", 20)
	addSuiteSeeds(f, "*-job.yml", 20)
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := schema.ParseInputs(data, "/fuzz/job.yml")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("ParseInputs returned an error with no message")
			}
			return
		}
		if obj == nil || obj.Values == nil {
			t.Fatal("ParseInputs returned no values and no error")
		}
		for k, v := range obj.Values {
			if !plain(v, 0) {
				t.Fatalf("input %q holds %T (%v), not a plain CWL value", k, v, v)
			}
		}
	})
}

// plain reports whether v is built only from nil, bool, int64, float64,
// string, []any and map[string]any. Depth is bounded because YAML aliases
// may share (not loop) subtrees.
func plain(v any, depth int) bool {
	if depth > 200 {
		return true
	}
	switch t := v.(type) {
	case nil, bool, int64, float64, string:
		return true
	case []any:
		for _, it := range t {
			if !plain(it, depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, it := range t {
			if !plain(it, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
