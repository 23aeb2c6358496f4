package schema

import "strings"

// SecondaryName applies a secondaryFiles pattern to a primary file's
// basename, as the spec defines it: each leading "^" removes one
// extension (none left: the rest is appended to the whole name), and the
// rest is appended.
func SecondaryName(base, pattern string) string {
	for strings.HasPrefix(pattern, "^") {
		i := strings.LastIndex(base, ".")
		if i < 0 {
			return base + strings.TrimLeft(pattern, "^")
		}
		base, pattern = base[:i], pattern[1:]
	}
	return base + pattern
}
