package expr

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	lit := func(s string) piece { return piece{text: s} }
	ex := func(s string) piece { return piece{text: s, expr: true} }
	tests := []struct {
		in   string
		want []piece
	}{
		{`plain`, []piece{lit(`plain`)}},
		{`$(a)`, []piece{ex(`$(a)`)}},
		{`x$(a)y${b}z`, []piece{lit(`x`), ex(`$(a)`), lit(`y`), ex(`${b}`), lit(`z`)}},
		{`$(f(g(1), (2)))!`, []piece{ex(`$(f(g(1), (2)))`), lit(`!`)}},
		{`${ var o = {a: {b: 1}}; return o; }.`, []piece{ex(`${ var o = {a: {b: 1}}; return o; }`), lit(`.`)}},
		// Closers inside strings do not end the expression.
		{`$(")" + ')' + "(")`, []piece{ex(`$(")" + ')' + "(")`)}},
		{`${ return "}" + '{'; }`, []piece{ex(`${ return "}" + '{'; }`)}},
		// Escaped quotes inside strings.
		{`$("a\")" + 'b\')')x`, []piece{ex(`$("a\")" + 'b\')')`), lit(`x`)}},
		// Template literals, including placeholders with braces and strings.
		{"$(`)`)", []piece{ex("$(`)`)")}},
		{"${ return `a ${ {b: '}'}.b } )`; }", []piece{ex("${ return `a ${ {b: '}'}.b } )`; }")}},
		// "$$(" is a literal "$" and then an expression, as in cwltool.
		{`$$(a)`, []piece{lit(`$`), ex(`$(a)`)}},
		// Escapes outside expressions.
		{`\$(a)`, []piece{lit(`$(a)`)}},
		{`\${a}`, []piece{lit(`${a}`)}},
		{`\\$(a)`, []piece{lit(`\`), ex(`$(a)`)}},
		{`a\b\\c`, []piece{lit(`a\b\c`)}},
		{`\$x`, []piece{lit(`\$x`)}},
		{`end\`, []piece{lit(`end\`)}},
		{`end$`, []piece{lit(`end$`)}},
		{``, nil},
	}
	for _, tt := range tests {
		got, err := split(tt.in)
		if err != nil {
			t.Errorf("split(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("split(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestSplitUnterminated(t *testing.T) {
	for _, in := range []string{`$(a`, `x ${ return 1`, `$(")`, `$(f(1)`, "${ `a ${b }"} {
		_, err := split(in)
		if !errors.Is(err, ErrUnterminated) {
			t.Errorf("split(%q) error = %v, want ErrUnterminated", in, err)
		}
	}
}

func TestIsExpression(t *testing.T) {
	tests := map[string]bool{
		`plain`:          false,
		`$(inputs.x)`:    true,
		`a ${return 1}`:  true,
		`\$(inputs.x)`:   false,
		`\${x}`:          false,
		`\\$(inputs.x)`:  true,
		`$ (x)`:          false,
		`cost: $5 (USD)`: false,
		`$(unclosed`:     true,
	}
	for in, want := range tests {
		if got := IsExpression(in); got != want {
			t.Errorf("IsExpression(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestEscapesConformance replays the conformance test
// quoting_multiple_backslashes (tests/string-interpolation/
// bash-dollar-quote.cwl): every `echo '...'   # produce ...` line of the
// script must evaluate to what its comment says.
func TestEscapesConformance(t *testing.T) {
	src, err := os.ReadFile("testdata/bash-dollar-quote.sh.in")
	if err != nil {
		t.Fatal(err)
	}
	e := mustNew(t, Options{JavaScript: true})
	out, err := e.EvalKeepWhitespace(string(src), Context{Inputs: map[string]any{"val": "val"}})
	if err != nil {
		t.Fatal(err)
	}
	script := out.(string)
	srcLines, outLines := strings.Split(string(src), "\n"), strings.Split(script, "\n")
	if len(srcLines) != len(outLines) {
		t.Fatalf("got %d lines, want %d", len(outLines), len(srcLines))
	}
	echo := regexp.MustCompile(`^echo '(.*)'\s+#`)
	want := regexp.MustCompile(`# produce (.*)$`)
	checked := 0
	for i, line := range srcLines {
		w := want.FindStringSubmatch(line)
		if w == nil {
			continue
		}
		got := echo.FindStringSubmatch(outLines[i])
		if got == nil || got[1] != strings.TrimSpace(w[1]) {
			t.Errorf("line %d: %q evaluated to %q, want echo '%s'", i+1, line, outLines[i], w[1])
		}
		checked++
	}
	if checked != 27 {
		t.Errorf("checked %d lines, want 27", checked)
	}
	if !strings.HasPrefix(script, "echo $(echo \\\n") {
		t.Errorf("escaped $( at the start not unescaped: %q", script[:20])
	}

	// The conformance test checks the script's output by checksum.
	if _, err := exec.LookPath("rev"); err != nil {
		t.Skip("rev not installed")
	}
	stdout, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Skipf("bash: %v", err)
	}
	sum := sha1.Sum(stdout)
	if got := hex.EncodeToString(sum[:]); got != "acfdc38aef5354c03b976cbb6d9f7d08a179951d" || len(stdout) != 246 {
		t.Errorf("script output: sha1 %s, %d bytes; want the conformance checksum, 246 bytes\n%s", got, len(stdout), stdout)
	}
}
