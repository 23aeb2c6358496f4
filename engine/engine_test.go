package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/schema"
)

func TestToolStdoutAndChecksum(t *testing.T) {
	out, err := run(t, `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs: {msg: {type: string, inputBinding: {}}}
outputs: {out: stdout}
stdout: hello.txt
`, map[string]any{"msg": "hello world"})
	if err != nil {
		t.Fatal(err)
	}
	f := out["out"].(map[string]any)
	if got := readOutput(t, f); got != "hello world\n" {
		t.Errorf("stdout = %q", got)
	}
	if f["basename"] != "hello.txt" || f["size"] != int64(12) || f["checksum"] != "sha1$22596363b3de40b06f981fb85d82312e8c0ed511" {
		t.Errorf("file object = %v", f)
	}
}

func TestExitCodes(t *testing.T) {
	doc := `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, "exit $0"]
inputs: {code: {type: int, inputBinding: {}}}
outputs: []
successCodes: [0, 3]
temporaryFailCodes: [75]
`
	if _, err := run(t, doc, map[string]any{"code": int64(3)}); err != nil {
		t.Errorf("exit 3 is listed in successCodes, got %v", err)
	}
	_, err := run(t, doc, map[string]any{"code": int64(75)})
	if !errors.Is(err, ErrTemporaryFail) {
		t.Errorf("exit 75: want a temporary failure, got %v", err)
	}
	_, err = run(t, doc, map[string]any{"code": int64(1)})
	if !errors.Is(err, ErrPermanentFail) || !strings.Contains(err.Error(), "exited with code 1") {
		t.Errorf("exit 1: want a permanent failure naming the code, got %v", err)
	}
}

func TestTimeLimitStopsTool(t *testing.T) {
	start := time.Now()
	_, err := run(t, `cwlVersion: v1.2
class: CommandLineTool
requirements: {ToolTimeLimit: {timelimit: 1}}
baseCommand: [sleep, "30"]
inputs: []
outputs: []
`, nil)
	if err == nil || !strings.Contains(err.Error(), "time limit") {
		t.Fatalf("want a time-limit failure, got %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("the tool was not stopped at its time limit")
	}
}

func TestMissingAndWrongInputs(t *testing.T) {
	doc := `cwlVersion: v1.2
class: CommandLineTool
baseCommand: "true"
inputs: {n: int, f: "File?"}
outputs: []
`
	_, err := run(t, doc, map[string]any{})
	if err == nil || !strings.Contains(err.Error(), `input "n"`) || !strings.Contains(err.Error(), "required") {
		t.Errorf("missing input: got %v", err)
	}
	_, err = run(t, doc, map[string]any{"n": "seven"})
	if err == nil || !strings.Contains(err.Error(), "expects int") {
		t.Errorf("wrong type: got %v", err)
	}
	_, err = run(t, doc, map[string]any{"n": int64(1), "f": map[string]any{"class": "File", "location": "/does/not/exist"}})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: got %v", err)
	}
}

// A directory staged into the work dir is a symlink to the user's input;
// an output globbed through it must be copied, never moved out of the
// user's directory.
func TestRelocateNeverMovesInputs(t *testing.T) {
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InitialWorkDirRequirement: {listing: [$(inputs.d)]}
baseCommand: "true"
inputs: {d: Directory}
outputs:
  f: {type: File, outputBinding: {glob: $(inputs.d.basename)/keep.txt}}
`, map[string]any{"d": map[string]any{"class": "Directory", "location": "file://" + in}})
	if err != nil {
		t.Fatal(err)
	}
	if got := readOutput(t, out["f"]); got != "mine" {
		t.Errorf("output contents = %q", got)
	}
	if data, err := os.ReadFile(filepath.Join(in, "keep.txt")); err != nil || string(data) != "mine" {
		t.Fatalf("the input file was taken away or changed: %v %q", err, data)
	}
}

func TestOutputSymlinkOutsideIsRefused(t *testing.T) {
	target := filepath.Join(t.TempDir(), "elsewhere.txt")
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [ln, -s]
inputs: {target: {type: string, inputBinding: {position: 1}}}
arguments: [{valueFrom: link.txt, position: 2}]
outputs: {f: {type: File, outputBinding: {glob: link.txt}}}
`, map[string]any{"target": target})
	if err == nil || !strings.Contains(err.Error(), "outside the output directory") {
		t.Errorf("want the escaping symlink refused, got %v", err)
	}
}

const echoTool = `cwlVersion: v1.2
class: CommandLineTool
requirements: {InlineJavascriptRequirement: {}}
baseCommand: echo
inputs: {msg: {type: string, inputBinding: {}}}
outputs: {out: {type: string, outputBinding: {glob: o, loadContents: true, outputEval: "$(self[0].contents.trim())"}}}
stdout: o
`

func writeTool(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "echo.cwl")
	if err := os.WriteFile(p, []byte(echoTool), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScatterMethods(t *testing.T) {
	tool := writeTool(t)
	wf := func(method string) string {
		return `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}, InlineJavascriptRequirement: {}, StepInputExpressionRequirement: {}}
inputs: {a: "string[]", b: "string[]"}
outputs: {o: {type: Any, outputSource: s/out}}
steps:
  s:
    run: ` + tool + `
    scatter: [a, b]
    scatterMethod: ` + method + `
    in: {a: a, b: b, msg: {valueFrom: $(inputs.a + inputs.b)}}
    out: [out]
`
	}
	in := map[string]any{"a": []any{"1", "2"}, "b": []any{"x", "y"}}
	cases := map[string]any{
		"dotproduct":          []any{"1x", "2y"},
		"flat_crossproduct":   []any{"1x", "1y", "2x", "2y"},
		"nested_crossproduct": []any{[]any{"1x", "1y"}, []any{"2x", "2y"}},
	}
	for method, want := range cases {
		out, err := run(t, wf(method), in)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if !reflect.DeepEqual(out["o"], want) {
			t.Errorf("%s: got %v, want %v", method, out["o"], want)
		}
	}
}

func TestWhenAndPickValue(t *testing.T) {
	tool := writeTool(t)
	doc := `cwlVersion: v1.2
class: Workflow
requirements: {InlineJavascriptRequirement: {}, MultipleInputFeatureRequirement: {}}
inputs: {big: boolean}
outputs:
  o: {type: string, outputSource: [yes/out, no/out], pickValue: the_only_non_null}
steps:
  yes: {run: ` + tool + `, when: $(inputs.big), in: {big: big, msg: {default: large}}, out: [out]}
  no: {run: ` + tool + `, when: $(!inputs.big), in: {big: big, msg: {default: small}}, out: [out]}
`
	for big, want := range map[bool]string{true: "large", false: "small"} {
		out, err := run(t, doc, map[string]any{"big": big})
		if err != nil {
			t.Fatal(err)
		}
		if out["o"] != want {
			t.Errorf("big=%v: got %v, want %s", big, out["o"], want)
		}
	}
}

func TestStepFailureStopsWorkflow(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "fail.cwl")
	os.WriteFile(failing, []byte("cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: \"false\"\ninputs: []\noutputs: []\n"), 0o644)
	_, err := run(t, `cwlVersion: v1.2
class: Workflow
inputs: []
outputs: []
steps:
  bad: {run: `+failing+`, in: {}, out: []}
`, nil)
	if !errors.Is(err, ErrPermanentFail) {
		t.Errorf("want the step's failure, got %v", err)
	}
}

func TestUnsupportedRequirement(t *testing.T) {
	e := newEngine(t)
	_, err := e.Run(context.Background(), loadDoc(t, `cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: debian}}
baseCommand: "true"
inputs: []
outputs: []
`), nil)
	if !errors.Is(err, schema.ErrUnsupported) {
		t.Errorf("DockerRequirement under requirements: want ErrUnsupported, got %v", err)
	}
}

func TestRelocateGivesAbsolutePaths(t *testing.T) {
	t.Chdir(t.TempDir())
	e := newEngine(t)
	out, err := e.Run(context.Background(), loadDoc(t, `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [echo, hi]
inputs: []
outputs: {out: stdout}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := e.Relocate(context.Background(), out, "results")
	if err != nil {
		t.Fatal(err)
	}
	p := moved["out"].(map[string]any)["path"].(string)
	if !filepath.IsAbs(p) {
		t.Errorf("output path %q is relative; CWL paths are absolute", p)
	}
}
