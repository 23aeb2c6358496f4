package expr

import "testing"

func benchContext() Context {
	return Context{
		Inputs: map[string]any{
			"file":  map[string]any{"class": "File", "path": "/data/in.txt", "basename": "in.txt", "size": int64(1234)},
			"n":     int64(4),
			"names": []any{"a", "b", "c"},
		},
		Runtime: map[string]any{"outdir": "/out", "cores": int64(8)},
	}
}

func benchEval(b *testing.B, opts Options, expr string) {
	e := mustNew(b, opts)
	c := benchContext()
	if _, err := e.Eval(expr, c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Eval(expr, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEvalParamRef(b *testing.B) {
	benchEval(b, Options{}, `$(inputs.file.path)`)
}

func BenchmarkEvalParamRefInterpolated(b *testing.B) {
	benchEval(b, Options{JavaScript: true}, `$(runtime.outdir)/$(inputs.file.basename).$(inputs.n)`)
}

func BenchmarkEvalJS(b *testing.B) {
	benchEval(b, Options{JavaScript: true}, `$(inputs.file.basename.split('.')[0] + '_' + inputs.n * 2)`)
}

func BenchmarkEvalJSFunctionBody(b *testing.B) {
	benchEval(b, Options{JavaScript: true, Lib: []string{"function stem(f) { return f.basename.replace(/\\.[^.]*$/, ''); }"}},
		`${ var out = []; for (var i = 0; i < inputs.names.length; i++) { out.push(stem(inputs.file) + inputs.names[i]); } return out; }`)
}
