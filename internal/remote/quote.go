package remote

import "strings"

// Quote returns s as one word for a POSIX shell, so that the shell passes it
// to a command byte for byte. Every Go value that ends up in a remote shell
// command goes through this function and no other: one quoting rule is one
// place to get right.
//
// Words made only of characters no shell treats specially are returned as
// they are, which keeps generated scripts readable; everything else is put in
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
