package expr

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEvalInterpolation(t *testing.T) {
	c := Context{
		Inputs: map[string]any{
			"n": int64(21), "f": 1.5, "s": "str", "b": true, "null": nil,
			"arr": []any{int64(1), "two"}, "obj": map[string]any{"z": int64(1), "a": "é"},
		},
		Self:    []any{"first"},
		Runtime: map[string]any{"outdir": "/out", "cores": int64(2)},
	}
	tests := []struct {
		in   string
		want any
	}{
		{`no expressions: a\\b \$x`, `no expressions: a\\b \$x`},
		{`  spaces stay when there is no expression  `, `  spaces stay when there is no expression  `},
		{`a\\b $(inputs.s)`, `a\b str`},
		// One expression: the value keeps its type, whitespace around ignored.
		{`$(inputs.n)`, int64(21)},
		{"  $(inputs.f)\n", 1.5},
		{`$(inputs.b)`, true},
		{`$(inputs.null)`, nil},
		{`$(inputs.arr)`, []any{int64(1), "two"}},
		{`$(self[0])`, "first"},
		{`$(runtime.cores)`, int64(2)},
		// Anything else is a string.
		{`$(inputs.n)$(inputs.n)`, "2121"},
		{`n=$(inputs.n) f=$(inputs.f) b=$(inputs.b) null=$(inputs.null)`, "n=21 f=1.5 b=true null=null"},
		{`$(runtime.outdir)/out.txt`, "/out/out.txt"},
		{`arr=$(inputs.arr)`, `arr=[1, "two"]`},
		{`obj=$(inputs.obj)`, `obj={"a": "\u00e9", "z": 1}`},
		{`\$(inputs.n)`, `$(inputs.n)`},
		{`\\$(inputs.n)`, `\21`},
	}
	for _, js := range []bool{false, true} {
		e := mustNew(t, Options{JavaScript: js})
		for _, tt := range tests {
			got, err := e.Eval(tt.in, c)
			if err != nil {
				t.Errorf("js=%v: Eval(%q): %v", js, tt.in, err)
				continue
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("js=%v: Eval(%q) = %#v, want %#v", js, tt.in, got, tt.want)
			}
		}
	}
}

func TestEvalKeepWhitespace(t *testing.T) {
	e := mustNew(t, Options{JavaScript: true})
	c := Context{Inputs: map[string]any{"n": int64(1), "quote": "Hello"}}
	tests := []struct {
		in   string
		want any
	}{
		{"$(inputs.n)", int64(1)},
		{"$(inputs.n)\n", "1\n"},
		{"  $(inputs.n)", "  1"},
		// Conformance escaping_expression_no_extra_quotes (js-quote.cwl).
		{"${return 'quote \"' + inputs.quote + '\"'}\n", "quote \"Hello\"\n"},
	}
	for _, tt := range tests {
		got, err := e.EvalKeepWhitespace(tt.in, c)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("EvalKeepWhitespace(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
}

func TestEvalJavaScript(t *testing.T) {
	e := mustNew(t, Options{JavaScript: true})
	c := Context{
		Inputs: map[string]any{"x": int64(3), "file": map[string]any{"class": "File", "basename": "a.txt"}, "contents": "42\n"},
		Self:   []any{int64(1), int64(2), int64(3)},
	}
	tests := []struct {
		in   string
		want any
	}{
		{`$(inputs.x * 2)`, int64(6)},
		{`$(inputs.x / 2)`, 1.5},
		{`$(parseInt(inputs.contents))`, int64(42)}, // conformance expression_parseint
		{`${ return inputs.x + 1; }`, int64(4)},
		{`${ }`, nil},
		{`$(undefined)`, nil},
		{`$(self.map(function(v) { return v * 10; }))`, []any{int64(10), int64(20), int64(30)}},
		{`${ var f = inputs.file; f.basename = "b.txt"; return f; }`, map[string]any{"class": "File", "basename": "b.txt"}},
		{`$({"a": [1, 2.5, null, true], "b": {}})`, map[string]any{"a": []any{int64(1), 2.5, nil, true}, "b": map[string]any{}}},
		{`$([undefined, function() {}])`, []any{nil, nil}},
		{`$({a: undefined, b: 1})`, map[string]any{"b": int64(1)}},
		{`$(new Date(0))`, "1970-01-01T00:00:00.000Z"},
		{`$(new String("boxed"))`, "boxed"},
		{`$(-0)`, int64(0)},
		{`$(1e300)`, 1e300},
		// Missing keys are undefined in JavaScript, so null (cwltool agrees).
		{`$(inputs.missing)`, nil},
		{`$(inputs.x.length)`, nil},
		// Nesting, quotes and template literals.
		{`$(")" + '(' + "\")")`, `)(")`},
		{`${ var o = {a: "}", b: '{'}; return o.a + o.b; }`, "}{"},
		{"$(`x=${inputs.x} )`)", "x=3 )"},
		{"${ return `${ {k: '}'}.k }`; }", "}"},
		{`$(inputs.x // a trailing comment
		)`, int64(3)},
		// Numbers spliced into text print as JavaScript prints them.
		{`$(0.00001) $(123000) $(1.5) $(1e21) $(1/3)`, "0.00001 123000 1.5 1e+21 0.3333333333333333"},
		{`$([1, "a", {"b": null}]) $(null) $(true)`, `[1, "a", {"b": null}] null true`},
		{`$('a') $("b")`, "a b"},
	}
	for _, tt := range tests {
		got, err := e.Eval(tt.in, c)
		if err != nil {
			t.Errorf("Eval(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Eval(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestEvalJavaScriptErrors(t *testing.T) {
	e := mustNew(t, Options{JavaScript: true})
	c := Context{Inputs: map[string]any{"x": map[string]any{}}}
	tests := []struct{ in, msg string }{
		{`$(inputs.x.y.z)`, `expression $(inputs.x.y.z) failed: TypeError: Cannot read property 'z' of undefined`},
		{`${ throw new Error("boom"); }`, `expression ${ throw new Error("boom"); } failed: Error: boom`},
		{`${ undeclared = 1; }`, `ReferenceError: undeclared is not defined`}, // strict mode
		{`$(1 +)`, `expression $(1 +) is not valid JavaScript: SyntaxError`},
		{`$(0/0)`, `failed: result contains NaN, which is not a JSON number`},
		{`$(function() {})`, `failed: result is a function, which is not a JSON value`},
		{`${ var o = {}; o.self = o; return o; }`, `failed: result contains a cycle`},
		{`${ function f() { return f(); } return f(); }`, `RangeError: Maximum call stack size exceeded`},
		{`$(inputs.x`, `unterminated expression: $(inputs.x`},
		{`$(` + strings.Repeat("1+", 100) + `)`, `+1+1+1... is not valid JavaScript: SyntaxError`},
	}
	for _, tt := range tests {
		v, err := e.Eval(tt.in, c)
		if err == nil {
			t.Errorf("Eval(%q) = %#v, want an error", tt.in, v)
		} else if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Eval(%q) error:\n  %s\nwant it to contain:\n  %s", tt.in, err, tt.msg)
		}
	}
	// The runtimes survive errors.
	if v, err := e.Eval(`$(1 + 1)`, c); err != nil || v != int64(2) {
		t.Errorf("after errors: %#v, %v", v, err)
	}
}

func TestExpressionLib(t *testing.T) {
	lib := []string{
		"function double(x) { return 2 * x; }",
		// Library functions see the globals of the evaluation calling them
		// (conformance test template-tool.cwl relies on it).
		"var firstName = function() { return inputs.names[0]; };",
	}
	e := mustNew(t, Options{JavaScript: true, Lib: lib})
	c := Context{Inputs: map[string]any{"names": []any{"ann", "bob"}, "n": int64(4)}}
	for in, want := range map[string]any{
		`$(double(inputs.n))`:                int64(8),
		`$(firstName())`:                     "ann",
		`Hello $(firstName()), $(double(2))`: "Hello ann, 4",
	} {
		if got, err := e.Eval(in, c); err != nil || got != want {
			t.Errorf("Eval(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}

	// Without JavaScript the library is not even looked at.
	if _, err := New(Options{Lib: []string{"this is not JavaScript"}}); err != nil {
		t.Errorf("library used without JavaScript: %v", err)
	}
	for _, tt := range []struct {
		lib []string
		msg string
	}{
		{[]string{"function ok() {}", "function ("}, "expressionLib entry 1 does not compile: SyntaxError"},
		{[]string{"throw new Error('lib broke')"}, "expressionLib entry 0 failed: Error: lib broke"},
		{[]string{"undeclared = 1"}, "expressionLib entry 0 failed: ReferenceError"}, // strict, as in cwltool
		{[]string{"while (true) {}"}, "expressionLib entry 0 failed: JavaScript timed out after 100ms"},
	} {
		_, err := New(Options{JavaScript: true, Lib: tt.lib, Timeout: 100 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("New(lib %q) error = %v, want %q", tt.lib, err, tt.msg)
		}
	}
}

// TestIsolation: scripts change inputs and self freely; neither the Go
// values nor later evaluations see it.
func TestIsolation(t *testing.T) {
	mk := func() Context {
		return Context{
			Inputs: map[string]any{
				"m":   map[string]any{"k": "orig"},
				"arr": []any{int64(1), int64(2)},
				"x":   int64(1),
			},
			Self:    map[string]any{"s": "orig"},
			Runtime: map[string]any{"outdir": "/out"},
		}
	}
	c, pristine := mk(), mk()
	e := mustNew(t, Options{JavaScript: true})
	mutate := `${
		inputs.m.k = "changed"; inputs.arr.push(3); inputs.arr[0] = 9;
		delete inputs.x; inputs.added = true;
		self.s = "changed"; runtime.outdir = "/elsewhere";
		inputs = null;
		return "done";
	}`
	for i := 0; i < 3; i++ { // several rounds, so pooled runtimes are reused
		if v, err := e.Eval(mutate, c); err != nil || v != "done" {
			t.Fatalf("mutating script: %#v, %v", v, err)
		}
		if !reflect.DeepEqual(c, pristine) {
			t.Fatalf("Go values changed by the script: %#v", c)
		}
		// "+ ''" makes these JavaScript rather than parameter references.
		v, err := e.Eval(`$(inputs.m.k + '') $(inputs.arr + '') $(inputs.x + '') $(self.s + '') $(runtime.outdir + '') $(typeof inputs.added)`, c)
		if want := "orig 1,2 1 orig /out undefined"; err != nil || v != want {
			t.Fatalf("next evaluation sees %#v, %v; want %q", v, err, want)
		}
	}
	// Results are fresh values too: changing one leaves the inputs alone.
	v, err := e.Eval(`$(inputs.m)`, c)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Eval(`${ return inputs.m; }`, c); !reflect.DeepEqual(got, v) {
		t.Fatalf("JS and parameter reference disagree: %#v vs %#v", got, v)
	}
	got, _ := e.Eval(`${ return inputs.m; }`, c)
	got.(map[string]any)["k"] = "mutated result"
	if c.Inputs["m"].(map[string]any)["k"] != "orig" {
		t.Fatal("a JavaScript result shares memory with the inputs")
	}
}

func TestTimeout(t *testing.T) {
	e := mustNew(t, Options{JavaScript: true, Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := e.Eval(`${ while (true) {} }`, Context{})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	// The loop never ends by itself: returning at all shows the
	// interrupt; the bound only tells a hang from a slow machine.
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("interrupted only after %s", d)
	}
	if !strings.Contains(err.Error(), "expression ${ while (true) {} } failed: JavaScript timed out after 100ms") {
		t.Errorf("message: %v", err)
	}
	// A quick expression after the runaway one still works.
	if v, err := e.Eval(`$(1 + 2)`, Context{}); err != nil || v != int64(3) {
		t.Errorf("after timeout: %#v, %v", v, err)
	}
}

// TestConcurrency runs many goroutines, each with its own inputs, through one
// Evaluator: every answer must be its own (run with -race).
func TestConcurrency(t *testing.T) {
	e := mustNew(t, Options{JavaScript: true, Lib: []string{"function tag(x) { return 'g' + x; }"}})
	const goroutines, rounds = 32, 100
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			c := Context{Inputs: map[string]any{"g": int64(g), "list": []any{int64(g), int64(g)}}, Self: int64(g)}
			for i := 0; i < rounds; i++ {
				want := fmt.Sprintf("g%d %d %d %d", g, 2*g, g, g)
				got, err := e.Eval(`$(tag(inputs.g)) ${ return inputs.list[0] + self; } $(inputs.g) $(self)`, c)
				if err != nil || got != want {
					errs <- fmt.Errorf("goroutine %d round %d: %#v, %v; want %q", g, i, got, err, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, limit := len(e.js.idle), cap(e.js.slots); n > limit || n == 0 {
		t.Errorf("%d idle runtimes after the burst, want 1..%d", n, limit)
	}
}

// TestParamRefsDoNotNeedJS: a JavaScript-enabled evaluator resolves
// parameter references without ever creating a JavaScript runtime.
func TestParamRefsDoNotNeedJS(t *testing.T) {
	e := mustNew(t, Options{JavaScript: true})
	if _, err := e.Eval(`$(inputs.a) and $(self[0]) in $(runtime.outdir)`, Context{
		Inputs: map[string]any{"a": "x"}, Self: []any{int64(1)}, Runtime: map[string]any{"outdir": "/o"},
	}); err != nil {
		t.Fatal(err)
	}
	e.js.mu.Lock()
	idle := len(e.js.idle)
	e.js.mu.Unlock()
	if idle != 0 {
		t.Errorf("%d JavaScript runtimes created for parameter references", idle)
	}
	if _, err := e.Eval(`$(1 + 1)`, Context{}); err != nil {
		t.Fatal(err)
	}
	if len(e.js.idle) != 1 {
		t.Errorf("JavaScript expression: %d idle runtimes, want 1", len(e.js.idle))
	}
}

// TestHostileResults: results and thrown values that run script code while
// they are converted or printed must neither panic nor hang.
func TestHostileResults(t *testing.T) {
	e := mustNew(t, Options{JavaScript: true, Timeout: 100 * time.Millisecond})
	tests := []struct {
		in, msg string
		timeout bool
	}{
		{`${ throw {toString: function() { throw 1; }}; }`, `failed: uncaught JavaScript exception`, false},
		{`${ throw {toString: function() { while (true) {} }}; }`, `timed out`, true},
		{`${ return {get a() { throw new Error("getter"); }}; }`, `failed: Error: getter`, false},
		{`${ return {toJSON: function() { throw new Error("toJSON"); }}; }`, `failed: Error: toJSON`, false},
		{`${ return {toJSON: function() { while (true) {} }}; }`, `timed out`, true},
		{`${ var a = []; a.length = 5e6; return a.length; }`, ``, false},
	}
	for _, tt := range tests {
		v, err := e.Eval(tt.in, Context{})
		if tt.msg == "" {
			if err != nil {
				t.Errorf("Eval(%q): %v", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.msg) || errors.Is(err, ErrTimeout) != tt.timeout {
			t.Errorf("Eval(%q) = %#v, %v; want error containing %q (timeout %v)", tt.in, v, err, tt.msg, tt.timeout)
		}
	}
	if v, err := e.Eval(`$(1 + 1)`, Context{}); err != nil || v != int64(2) {
		t.Errorf("afterwards: %#v, %v", v, err)
	}
}
