package testenv

import (
	"testing"
)

// recorder is a testing.TB that records how the test ended instead of
// ending it.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = true
	r.msg = args[0].(string)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = format
}

func TestSkipOrFail(t *testing.T) {
	t.Setenv(RequireVar, "")
	r := &recorder{TB: t}
	SkipOrFail(r, "no cluster; run scripts/testcluster up")
	if !r.skipped || r.failed || r.msg != "no cluster; run scripts/testcluster up" {
		t.Errorf("without %s: skipped %v, failed %v, message %q", RequireVar, r.skipped, r.failed, r.msg)
	}
	t.Setenv(RequireVar, "1")
	r = &recorder{TB: t}
	SkipOrFail(r, "no cluster")
	if r.skipped || !r.failed {
		t.Errorf("with %s=1: skipped %v, failed %v; want a failure", RequireVar, r.skipped, r.failed)
	}
}
