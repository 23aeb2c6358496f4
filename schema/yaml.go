package schema

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// This file adapts yaml.v3 (a YAML 1.1 parser at heart) to the documents
// CWL runners accept, which are read as YAML 1.2, and makes its syntax
// errors point at the offending token.

// placeholder stands in for a '?' that YAML 1.1 ends a plain scalar at.
// It is one character like '?', so every line and column yaml.v3 reports
// stays that of the original text; it is private-use, so no document has a
// reason to hold it (one that does is not rewritten).
const placeholder = '\uE000'

// parseTree parses data into a yaml.v3 tree. On failure it returns the
// error with the text it is about, for yamlError to place.
//
// In a flow collection ({...} or [...]) yaml.v3 ends a plain scalar at '?'
// and then fails ("did not find expected ',' or '}'") on `{type: File?}`,
// which YAML 1.2, and so every other CWL runner, reads as the text
// "File?". When parsing fails, a '?' that follows a character of a
// scalar (not a space, a line start or a flow indicator, where it would be
// YAML's explicit-key indicator) is replaced and the text parsed again.
// Outside flow scalars the replacement changes nothing, since the
// placeholder is restored in every text. If the second parse fails too,
// its error is the one reported: the first may be about a '?' that is
// no mistake, and the placeholder moves no line or column.
func parseTree(data []byte) (*yaml.Node, []byte, error) {
	var y yaml.Node
	err := yaml.Unmarshal(data, &y)
	if err == nil {
		return &y, nil, nil
	}
	fixed, ok := replaceScalarQuestionMarks(data)
	if !ok {
		return nil, data, err
	}
	var y2 yaml.Node
	if err := yaml.Unmarshal(fixed, &y2); err != nil {
		return nil, fixed, err
	}
	restoreTree(&y2)
	return &y2, nil, nil
}

// replaceScalarQuestionMarks returns data with each '?' that continues a
// scalar replaced by the placeholder, and whether there was one.
func replaceScalarQuestionMarks(data []byte) ([]byte, bool) {
	if !utf8.Valid(data) || bytes.ContainsRune(data, placeholder) || bytes.Contains(bytes.ToLower(data), []byte("ue000")) {
		return nil, false
	}
	var out bytes.Buffer
	out.Grow(len(data) + 16)
	changed := false
	prev := '\n'
	for _, r := range string(data) {
		if r == '?' && !strings.ContainsRune(" \t\r\n{[,\ufeff", prev) {
			out.WriteRune(placeholder)
			changed = true
		} else {
			out.WriteRune(r)
		}
		prev = r
	}
	return out.Bytes(), changed
}

// restoreTree puts the '?' back into every text of a rewritten document:
// scalars, keys, anchors and tags. Aliases are reached through their
// anchors, which are in the tree too.
func restoreTree(y *yaml.Node) {
	unplace := func(s string) string { return strings.ReplaceAll(s, string(placeholder), "?") }
	y.Value, y.Anchor, y.Tag = unplace(y.Value), unplace(y.Anchor), unplace(y.Tag)
	for _, c := range y.Content {
		restoreTree(c)
	}
}

// yamlError turns yaml.v3's "yaml: line 3: ..." into an Error at the token
// the parser stopped at. yaml.v3 names the line of what it was parsing
// when it failed (the start of a mapping, often a line or more before the
// mistake, and for parser errors counted from 0, so one line early), or
// the end of the text, and no column; locateYAMLError finds the token
// itself, and yaml.v3's line is kept only when it cannot.
func yamlError(data []byte, file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		if i := strings.Index(msg, ":"); i >= 0 {
			msg = strings.TrimSpace(msg[i+1:])
		}
	}
	pos := Pos{File: file, Line: line, Col: 1}
	if pos.Line == 0 {
		pos.Line = 1
	}
	if l, c, ok := locateYAMLError(data, msg); ok {
		pos.Line, pos.Col = l, c
	}
	return &Error{Pos: pos, Msg: "invalid YAML: " + msg}
}

// locateYAMLError finds where the text stops being YAML: the first line,
// and on it the first character, such that the text up to there (with
// any flow collection left open closed after it) fails with the same
// problem as the whole document. That character ends the offending token;
// the token's start is returned, 1-based and counted in characters as
// yaml.v3 counts columns. A text that fails stays failing when more is
// added after it, so both are found by bisection: a few dozen parses even
// for a long document written on one line.
func locateYAMLError(data []byte, problem string) (line, col int, ok bool) {
	lines := strings.SplitAfter(string(data), "\n")
	fails := func(prefix string) bool {
		var y yaml.Node
		err := yaml.Unmarshal([]byte(prefix+flowClosers(prefix)), &y)
		return err != nil && strings.HasSuffix(err.Error(), problem)
	}
	at := firstTrue(len(lines), func(k int) bool { return fails(strings.Join(lines[:k+1], "")) })
	if at < 0 {
		return 0, 0, false
	}
	before := strings.Join(lines[:at], "")
	text := []rune(strings.TrimRight(lines[at], "\r\n"))
	c := firstTrue(len(text), func(i int) bool { return fails(before + string(text[:i+1])) })
	if c < 0 {
		return at + 1, firstNonBlank(text) + 1, true
	}
	return at + 1, tokenStart(text, c) + 1, true
}

// firstTrue returns the least i in [0, n) for which f holds, given that f
// holds for every i after it too; -1 when f(n-1) is false.
func firstTrue(n int, f func(int) bool) int {
	if n == 0 || !f(n-1) {
		return -1
	}
	lo, hi := 0, n-1
	for lo < hi {
		mid := (lo + hi) / 2
		if f(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// tokenStart returns the index where the token holding text[i] begins: i
// itself for an indicator, else the start of the word. A blank there ends
// the token before it (a ':' is a mapping value only once a blank follows
// it), so that token is meant.
func tokenStart(text []rune, i int) int {
	for i > 0 && (text[i] == ' ' || text[i] == '\t') {
		i--
	}
	if strings.ContainsRune(":,-?[]{}#&*!|>'\"%@` \t", text[i]) {
		return i
	}
	for i > 0 && !strings.ContainsRune(" \t,[]{}\"'", text[i-1]) {
		i--
	}
	return i
}

func firstNonBlank(text []rune) int {
	for i, r := range text {
		if r != ' ' && r != '\t' {
			return i
		}
	}
	return 0
}

// flowClosers returns the brackets that close the flow collections open
// at the end of prefix, innermost first, so that a prefix cut inside one
// fails only for what it holds, not for stopping early. It reads just
// enough YAML for that: quoted scalars, comments and brackets; a quote
// opens a scalar only where a token starts. A quoted scalar left open is
// not closed: a prefix cut inside one fails for that, which is the
// problem to find only when the whole document leaves it open.
func flowClosers(prefix string) string {
	var stack []rune
	var quote rune
	prev := '\n'
	comment := false
	for _, r := range prefix {
		switch {
		case comment:
			comment = r != '\n'
		case quote == '\'':
			if r == '\'' {
				quote = 0 // a doubled '' reopens at the next quote, which is fine for counting
			}
		case quote == '"':
			if r == '"' && prev != '\\' {
				quote = 0
			}
			if r == '\\' && prev == '\\' {
				r = 0 // an escaped backslash escapes nothing after it
			}
		case r == '#' && strings.ContainsRune(" \t\n", prev):
			comment = true
		case (r == '\'' || r == '"') && strings.ContainsRune(" \t\n:,[{-?", prev):
			quote = r
		case r == '{' || r == '[':
			stack = append(stack, r)
		case (r == '}' || r == ']') && len(stack) > 0:
			stack = stack[:len(stack)-1]
		}
		prev = r
	}
	var b strings.Builder
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i] == '{' {
			b.WriteRune('}')
		} else {
			b.WriteRune(']')
		}
	}
	return b.String()
}
