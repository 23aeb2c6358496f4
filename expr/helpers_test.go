package expr

import "testing"

func mustNew(t testing.TB, opts Options) *Evaluator {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
