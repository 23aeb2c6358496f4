package expr

import (
	"testing"
	"time"
)

// FuzzEval feeds arbitrary text to both kinds of evaluator. Nothing may
// panic, and text without an expression must come back as a string.
func FuzzEval(f *testing.F) {
	for _, s := range []string{
		`plain`, `$(inputs.x)`, `a $(inputs['x']) b`, `${ return inputs.x + 1; }`,
		`\$(x) \\$(inputs.x) \${`, `$(")")`, "$(`${ {a: '}'} }`)", `$(inputs.l[1].length)`,
		`$(self[0]`, `$$(`, `\`, `${ throw 1 }`, `$(null)`, `$(runtime.outdir)/x`,
	} {
		f.Add(s)
	}
	c := Context{
		Inputs:  map[string]any{"x": int64(1), "l": []any{"a", []any{}}, "m": map[string]any{"k": 1.5}},
		Self:    []any{"s"},
		Runtime: map[string]any{"outdir": "/out"},
	}
	plain, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	js, err := New(Options{JavaScript: true, Timeout: 50 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, e := range []*Evaluator{plain, js} {
			v, err := e.Eval(s, c)
			if !hasDollar(s) && (err != nil || v != s) {
				t.Fatalf("Eval(%q) changed text without expressions: %#v, %v", s, v, err)
			}
			if !IsExpression(s) {
				if _, isString := v.(string); err != nil || !isString {
					t.Fatalf("Eval(%q) of text without expressions: %#v, %v", s, v, err)
				}
			}
			_, _ = e.EvalKeepWhitespace(s, c)
		}
	})
}
