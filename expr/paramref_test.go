package expr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// barInputs is the input object of the conformance tests params.cwl and
// params2.cwl.
func barInputs() map[string]any {
	return map[string]any{"bar": map[string]any{
		"baz":  "zab1",
		"b az": int64(2),
		"b'az": true,
		`b"az`: nil,
		"buz":  []any{"a", "b", "c"},
	}}
}

// TestParamsConformance replays param_evaluation_noexpr and
// param_evaluation_expr: the same references, without and with JavaScript.
func TestParamsConformance(t *testing.T) {
	bar := barInputs()["bar"]
	tests := []struct {
		expr string
		want any
	}{
		{`$(inputs)`, barInputs()},
		{`$(inputs.bar)`, bar},
		{`$(inputs['bar'])`, bar},
		{`$(inputs["bar"])`, bar},
		{`$(inputs.bar.baz)`, "zab1"},
		{`$(inputs['bar'].baz)`, "zab1"},
		{`$(inputs['bar']["baz"])`, "zab1"},
		{`$(inputs.bar['baz'])`, "zab1"},
		{`$(inputs.bar['b az'])`, int64(2)},
		{`$(inputs.bar['b\'az'])`, true},
		{`$(inputs.bar["b'az"])`, true},
		{`$(inputs.bar['b"az'])`, nil},
		{`-$(inputs.bar.baz)`, "-zab1"},
		{`-$(inputs['bar'].baz)`, "-zab1"},
		{`-$(inputs['bar']["baz"])`, "-zab1"},
		{`-$(inputs.bar['baz'])`, "-zab1"},
		{`$(inputs.bar.baz) $(inputs.bar.baz)`, "zab1 zab1"},
		{`$(inputs['bar'].baz) $(inputs['bar'].baz)`, "zab1 zab1"},
		{`$(inputs['bar']["baz"]) $(inputs['bar']["baz"])`, "zab1 zab1"},
		{`$(inputs.bar['baz']) $(inputs.bar['baz'])`, "zab1 zab1"},
		{`$(inputs.bar['b az']) $(inputs.bar['b az'])`, "2 2"},
		{`$(inputs.bar['b\'az']) $(inputs.bar['b\'az'])`, "true true"},
		{`$(inputs.bar["b'az"]) $(inputs.bar["b'az"])`, "true true"},
		{`$(inputs.bar['b"az']) $(inputs.bar['b"az'])`, "null null"},
		{`$(inputs.bar.buz[1])`, "b"},
		{`$(inputs.bar.buz[1]) $(inputs.bar.buz[1])`, "b b"},
		{`$(null)`, nil},
		{`$(inputs.bar.buz.length)`, int64(3)},
	}
	for _, js := range []bool{false, true} {
		e := mustNew(t, Options{JavaScript: js})
		for _, tt := range tests {
			got, err := e.Eval(tt.expr, Context{Inputs: barInputs()})
			if err != nil {
				t.Errorf("js=%v: Eval(%s): %v", js, tt.expr, err)
				continue
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("js=%v: Eval(%s) = %#v, want %#v", js, tt.expr, got, tt.want)
			}
		}
	}
}

// TestParamRefLength replays user_defined_length_in_parameter_reference:
// "length" is only special as the last key on an array.
func TestParamRefLength(t *testing.T) {
	c := Context{Inputs: map[string]any{
		"length": int64(1),
		"bar":    map[string]any{"length": int64(2)},
		"baz":    map[string]any{"length": map[string]any{"bap": int64(3)}},
		"s":      "a😀",
		"arr":    []any{"x", "y"},
	}}
	tests := map[string]any{
		`$(inputs.length)`:         int64(1),
		`$(inputs.bar.length)`:     int64(2),
		`$(inputs.baz.length.bap)`: int64(3),
		`$(inputs.s.length)`:       int64(3), // UTF-16 code units, as in JavaScript
		`$(inputs.s[0])`:           "a",
		`$(inputs.arr.length)`:     int64(2),
	}
	for _, js := range []bool{false, true} {
		e := mustNew(t, Options{JavaScript: js})
		for expr, want := range tests {
			got, err := e.Eval(expr, c)
			if err != nil || got != want {
				t.Errorf("js=%v: Eval(%s) = %#v, %v; want %#v", js, expr, got, err, want)
			}
		}
	}
}

func TestParamRefErrorsWithoutJS(t *testing.T) {
	e := mustNew(t, Options{})
	c := Context{Inputs: map[string]any{"bar": int64(0), "arr": []any{int64(1)}, "n": nil, "m": map[string]any{}}}
	tests := []struct {
		expr, msg string
		needsJS   bool
	}{
		// Conformance: params_broken_null, length_for_non_array.
		{`$(null.something)`, `expression $(null.something) failed: null has no fields`, false},
		{`$(inputs.bar.length)`, `expression $(inputs.bar.length) failed: inputs.bar is a number, it has no field "length"`, false},
		{`$(inputs.missing)`, `expression $(inputs.missing) failed: inputs has no field "missing"`, false},
		{`$(inputs.n.x)`, `expression $(inputs.n.x) failed: inputs.n is null, it has no field "x"`, false},
		{`$(inputs.arr[3])`, `expression $(inputs.arr[3]) failed: inputs.arr has 1 elements, index 3 is out of range`, false},
		{`$(inputs.arr.length.x)`, `failed: inputs.arr is an array, it has no field "length" (only a final .length gives its size)`, false},
		{`$(inputs.m[0])`, `inputs.m is an object, it has no element 0`, false},
		{`$(outputs.x)`, `outputs is not defined`, false},
		{`$(inputs.bar + 1)`, `expression $(inputs.bar + 1) is not a parameter reference: JavaScript expressions need InlineJavascriptRequirement`, true},
		{`$(inputs. bar)`, `is not a parameter reference`, true},
		{`$(inputs.bar())`, `is not a parameter reference`, true},
		{`$(inputs['a\n'])`, `is not a parameter reference`, true},
		{`$(inputs[-1])`, `is not a parameter reference`, true},
		{`$( inputs.bar )`, `is not a parameter reference`, true},
		{`x ${return 1}`, `expression ${return 1} is a JavaScript function body: JavaScript expressions need InlineJavascriptRequirement`, true},
	}
	for _, tt := range tests {
		v, err := e.Eval(tt.expr, c)
		if err == nil {
			t.Errorf("Eval(%s) = %#v, want an error", tt.expr, v)
			continue
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Eval(%s) error %q, want it to contain %q", tt.expr, err, tt.msg)
		}
		if errors.Is(err, ErrNeedsJS) != tt.needsJS {
			t.Errorf("Eval(%s): errors.Is(err, ErrNeedsJS) = %v, want %v", tt.expr, !tt.needsJS, tt.needsJS)
		}
	}
}

func TestParseParamRef(t *testing.T) {
	ref, ok := parseParamRef(`inputs.a_b['c d']["e\"f"][12].ünï`)
	if !ok {
		t.Fatal("not parsed")
	}
	want := []refSeg{
		{key: "a_b", end: 10},
		{key: "c d", end: 17},
		{key: `e"f`, end: 25},
		{index: 12, isIndex: true, end: 29},
		{key: "ünï", end: 35}, // offsets count bytes
	}
	if ref.root != "inputs" || !reflect.DeepEqual(ref.segs, want) {
		t.Errorf("got %q %+v, want inputs %+v", ref.root, ref.segs, want)
	}
	for _, bad := range []string{``, `.a`, `a.`, `a[`, `a[1`, `a['x]`, `a[x]`, `a..b`, `a b`, `a[99999999999999999999]`} {
		if _, ok := parseParamRef(bad); ok {
			t.Errorf("parseParamRef(%q) accepted", bad)
		}
	}
}
