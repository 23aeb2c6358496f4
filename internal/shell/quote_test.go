package shell

import (
	"os/exec"
	"testing"
)

var hostile = []string{
	"", "plain", "two words", "it's", `"double"`, "$(touch /tmp/flow-pwned)", "`id`", "a;b", "a && b",
	"line\nbreak", "tab\there", "back\\slash", "*", "~", "#comment", "FOO=bar", "-n", "ünïcødé", "'", "''",
	"$'x'", "!", "a|b", "<in", ">out", "{a,b}", "[ab]",
}

// Every string, quoted, reaches a command byte for byte through real shells.
func TestQuoteRoundTrips(t *testing.T) {
	for _, sh := range []string{"sh", "bash"} {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		for _, s := range hostile {
			out, err := exec.Command(sh, "-c", "printf %s "+Quote(s)).Output()
			if err != nil || string(out) != s {
				t.Errorf("%s: printf %s gave %q (%v), want %q", sh, Quote(s), out, err, s)
			}
		}
	}
}

func TestQuoteLeavesPlainWords(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "/p/a.txt": "/p/a.txt", "-x": "-x", "a=b": "'a=b'", "": "''"} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// Display keeps a command on one line and, pasted into bash, gives back
// the same words.
func TestDisplay(t *testing.T) {
	words := []string{"printf", "%s|", "tr -s", "\n", "a\tb'c"}
	line := Display(words)
	for _, r := range line {
		if r == '\n' {
			t.Fatalf("Display printed a newline: %q", line)
		}
	}
	out, err := exec.Command("bash", "-c", line).Output()
	if err != nil || string(out) != "tr -s|\n|a\tb'c|" {
		t.Errorf("bash %s gave %q (%v)", line, out, err)
	}
}
