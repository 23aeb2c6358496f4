package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const report = `<?xml version="1.0" ?>
<testsuites><testsuite name="conformance_tests" tests="3">
<testcase name="a" class="required" file="a" url="cwltest:conformance_tests#1"/>
<testcase name="b" class="command_line_tool" file="b" url="cwltest:conformance_tests#2"><failure type="failure">expected: {}
caused by: failed comparison for key 'x': expected: 1
got: 2</failure><system-err>line 1
line 2</system-err></testcase>
<testcase name="c" class="docker" file="c" url="cwltest:conformance_tests#3"><skipped type="skipped" message="Unsupported"/></testcase>
</testsuite></testsuites>
`

// The exit status follows the baseline when there is one, and any failure
// when there is none; the failure is named with its innermost difference.
func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	xml := filepath.Join(dir, "r.xml")
	os.WriteFile(xml, []byte(report), 0o644)
	base := func(n string) string {
		p := filepath.Join(dir, "baseline-"+n)
		os.WriteFile(p, []byte("# fewest passes\n"+n+"\n"), 0o644)
		return p
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{xml}, 1},
		{[]string{"--baseline", base("1"), xml}, 0},
		{[]string{"--baseline", base("2"), xml}, 1},
		{[]string{filepath.Join(dir, "missing.xml")}, 2},
		{[]string{}, 2},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args, code, c.code, out.String(), errb.String())
		}
		if c.code != 2 && !strings.Contains(out.String(), "FAIL [2] b: failed comparison for key 'x': expected: 1 got: 2\n    line 1\n    line 2\n") {
			t.Errorf("%v: output\n%s", c.args, out.String())
		}
	}
}
