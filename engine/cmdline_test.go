package engine

import (
	"context"
	"reflect"
	"testing"

	"github.com/flow-cwl/flow/expr"
)

// argv builds the command line of a tool document for the given inputs,
// the way a job would, without running it.
func argv(t *testing.T, doc string, inputs map[string]any) []string {
	t.Helper()
	p := loadDoc(t, doc)
	ev, err := expr.New(expr.Options{JavaScript: true})
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	pe := (&procEnv{}).with(p.Requirements, p.Hints)
	bound, err := e.bindInputs(context.Background(), p, inputs, pe, ev)
	if err != nil {
		t.Fatalf("bind: %v", err)
	}
	b := &cmdBuilder{ev: ev, inputs: bound, rt: map[string]any{"outdir": "/out", "tmpdir": "/tmp"}}
	words, err := b.build(p)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w.text
	}
	return out
}

const head = "cwlVersion: v1.2\nclass: CommandLineTool\noutputs: []\n"

func TestCommandLineBinding(t *testing.T) {
	cases := []struct {
		name   string
		doc    string
		inputs map[string]any
		want   []string
	}{
		{"positions then names, arguments before inputs at equal position",
			head + `baseCommand: tool
arguments: [{valueFrom: arg0, position: 1}]
inputs:
  b: {type: string, inputBinding: {position: 1}}
  a: {type: string, inputBinding: {position: 1}}
  z: {type: string, inputBinding: {position: 0}}
`, map[string]any{"a": "A", "b": "B", "z": "Z"},
			[]string{"tool", "Z", "arg0", "A", "B"}},
		{"prefix, separate false, booleans and nulls",
			head + `baseCommand: tool
inputs:
  n: {type: int, inputBinding: {prefix: -n, separate: false, position: 1}}
  v: {type: boolean, inputBinding: {prefix: --verbose, position: 2}}
  q: {type: boolean, inputBinding: {prefix: --quiet, position: 3}}
  o: {type: "string?", inputBinding: {prefix: -o, position: 4}}
`, map[string]any{"n": int64(3), "v": true, "q": false},
			[]string{"tool", "-n3", "--verbose"}},
		{"array: prefix once, items after; itemSeparator joins",
			head + `baseCommand: tool
inputs:
  xs: {type: "string[]", inputBinding: {prefix: -x, position: 1}}
  ys: {type: "int[]", inputBinding: {prefix: -y, itemSeparator: ",", position: 2}}
  e: {type: "string[]", inputBinding: {prefix: -e, position: 3}}
`, map[string]any{"xs": []any{"a", "b"}, "ys": []any{int64(1), int64(2)}, "e": []any{}},
			[]string{"tool", "-x", "a", "b", "-y", "1,2"}},
		{"items with their own binding repeat the prefix",
			head + `baseCommand: tool
inputs:
  xs:
    type: {type: array, items: string, inputBinding: {prefix: -i}}
    inputBinding: {position: 1}
`, map[string]any{"xs": []any{"a", "b"}},
			[]string{"tool", "-i", "a", "-i", "b"}},
		{"record fields sort among the other arguments",
			head + `baseCommand: tool
arguments: [{valueFrom: mid, position: 2}]
inputs:
  r:
    type:
      type: record
      fields:
        one: {type: string, inputBinding: {position: 1}}
        three: {type: string, inputBinding: {position: 3}}
`, map[string]any{"r": map[string]any{"one": "1", "three": "3"}},
			[]string{"tool", "1", "mid", "3"}},
		{"floats print in decimal, valueFrom sees self",
			head + `baseCommand: tool
requirements: {InlineJavascriptRequirement: {}}
inputs:
  f: {type: float, inputBinding: {position: 1}}
  g: {type: float, inputBinding: {position: 2}}
  s: {type: string, inputBinding: {position: 3, valueFrom: "$(self.toUpperCase())"}}
`, map[string]any{"f": 0.00001, "g": float64(123000), "s": "abc"},
			[]string{"tool", "0.00001", "123000", "ABC"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := argv(t, c.doc, c.inputs)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("argv = %q, want %q", got, c.want)
			}
		})
	}
}

// With ShellCommandRequirement, words are quoted unless their binding
// says shellQuote: false, which lets a tool write shell syntax.
func TestShellCommandLine(t *testing.T) {
	got := shellJoin([]word{{"echo", true}, {"two words", true}, {"$(id)", true}, {"> out.txt", false}})
	if want := `echo 'two words' '$(id)' > out.txt`; got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}
