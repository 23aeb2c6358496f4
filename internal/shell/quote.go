// Package shell quotes strings for POSIX shells. Every Go value that ends
// up in a shell command (a job script, a remote command, a CWL
// ShellCommandRequirement command line) goes through Quote and no other
// function: one quoting rule is one place to get right.
package shell

import (
	"fmt"
	"strings"
	"unicode"
)

// Quote returns s as one word for a POSIX shell, so that the shell passes it
// to a command byte for byte.
//
// Words made only of characters no shell treats specially, in any position,
// are returned as they are, which keeps scripts readable ('=' is not among
// them: a first word with one is an assignment). Everything else is put in
// single quotes, where the only special character is the single quote
// itself: it is written by closing the quotes, adding a backslash-escaped
// quote and reopening them. A shell cannot hold a NUL byte in a word, so
// strings containing one cannot be passed intact.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isPlainWord(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each word and joins them with spaces: a command line.
func Join(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}

// isPlainWord reports whether s consists only of characters that mean
// nothing to a shell in any position.
func isPlainWord(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("_-+.,:/@%", r):
		default:
			return false
		}
	}
	return true
}

// Display renders a command line for people: like Join, but a word with
// control characters is written in bash's $'...' form, so that a newline in
// an argument does not break the line and the text still pastes into bash.
func Display(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		if strings.IndexFunc(w, unicode.IsControl) >= 0 {
			q[i] = ansiQuote(w)
		} else {
			q[i] = Quote(w)
		}
	}
	return strings.Join(q, " ")
}

// ansiQuote writes s in the $'...' form, with control characters escaped.
func ansiQuote(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for _, r := range s {
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
