package remote

import (
	"github.com/flow-cwl/flow/internal/shell"
	"os/exec"
	"testing"
	"time"
)

var hostile = []string{
	"",
	"plain",
	"two words",
	"$(touch /tmp/flow-pwned)",
	"`touch /tmp/flow-pwned`",
	"${HOME}$HOME",
	"it's",
	`"double" and 'single' and '\''`,
	`back\slash\`,
	"new\nline\n",
	"tab\there",
	"semi; rm -rf /; echo",
	"glob * ? [a-z]",
	"~root",
	"-n",
	"--",
	"a=b",
	"!history !!",
	"#comment",
	"& | < > ( ) { }",
	"unicode: héllo ✓ 日本語 🙂",
	"\x01\x1b[31mcontrol\x7f",
	"\xff\xfe invalid utf-8",
	"'",
	"''",
	"\\'",
}

func TestQuoteForms(t *testing.T) {
	for in, want := range map[string]string{
		"":            "''",
		"abc/d-e_f.g": "abc/d-e_f.g",
		"a b":         "'a b'",
		"it's":        `'it'\''s'`,
		"a=b":         "'a=b'",
		"~":           "'~'",
	} {
		if got := shell.Quote(in); got != want {
			t.Errorf("shell.Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestQuoteLocalShell checks the quoting against the shell on this machine,
// so it runs even where no sshd can.
func TestQuoteLocalShell(t *testing.T) {
	for _, s := range hostile {
		out, err := exec.Command("bash", "-c", "printf %s "+shell.Quote(s)).Output()
		if err != nil {
			t.Fatalf("bash with %q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("printf %%s %s printed %q, want %q", shell.Quote(s), out, s)
		}
	}
}

func TestQuoteRemoteRoundTrip(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 30*time.Second)
	for _, h := range hostile {
		out, err := c.Run(ctx, "printf %s "+shell.Quote(h))
		if err != nil {
			t.Fatalf("Run with %q: %v", h, err)
		}
		if string(out) != h {
			t.Errorf("remote printf %%s %s printed %q, want %q", shell.Quote(h), out, h)
		}
	}
	// All at once, as arguments of one command.
	script := "printf '%s\\0'"
	for _, h := range hostile {
		script += " " + shell.Quote(h)
	}
	out, err := c.Run(ctx, script)
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, h := range hostile {
		want += h + "\x00"
	}
	if string(out) != want {
		t.Errorf("one command with every hostile argument printed %q, want %q", out, want)
	}
}
