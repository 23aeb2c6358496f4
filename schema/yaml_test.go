package schema

import (
	"errors"
	"testing"
)

// A plain scalar ending in '?' inside a flow collection is text in YAML
// 1.2, which yaml.v3 alone refuses; it is read, and every position on the
// line stays where the document has it.
func TestFlowScalarWithQuestionMark(t *testing.T) {
	doc := "inputs:\n  a: {type: File?, doc: \"what? x\"}\n  b: [string?, a?b, {x: y}]\n  c: 'q?'\n  d: {? k : v}\n"
	n, err := ParseBytes([]byte(doc), "doc.cwl", "file:///doc.cwl")
	if err != nil {
		t.Fatal(err)
	}
	in := n.Get("inputs")
	a := in.Get("a")
	if s, _ := a.Get("type").Str(); s != "File?" {
		t.Errorf("a.type = %q, want File?", s)
	}
	if s, _ := a.Get("doc").Str(); s != "what? x" {
		t.Errorf("a.doc = %q", s)
	}
	if p := a.Get("doc").Pos; p.Line != 2 || p.Col != 25 {
		t.Errorf("a.doc is at %d:%d, want 2:25", p.Line, p.Col)
	}
	b := in.Get("b")
	for i, want := range []string{"string?", "a?b"} {
		if s, _ := b.Items[i].Str(); s != want {
			t.Errorf("b[%d] = %q, want %q", i, s, want)
		}
	}
	if p := b.Items[2].Pos; p.Line != 3 || p.Col != 21 {
		t.Errorf("b[2] is at %d:%d, want 3:21", p.Line, p.Col)
	}
	if s, _ := in.Get("c").Str(); s != "q?" {
		t.Errorf("c = %q", s)
	}
	if s, _ := in.Get("d").Get("k").Str(); s != "v" {
		t.Errorf("d: the explicit key ? k was not read as one: %#v", in.Get("d").Plain())
	}
}

// Syntax errors point at the token the parser stopped at, not at the
// line before the mapping that holds it, as yaml.v3 says.
func TestYAMLErrorPositions(t *testing.T) {
	for _, c := range []struct {
		doc       string
		line, col int
		msg       string
	}{
		// a comma missing in a flow mapping: the ':' that cannot follow
		{"a: 1\nb:\n  c: {type: File doc: x}\n", 3, 21, "did not find expected ',' or '}'"},
		// a flow mapping left open: the first token it cannot hold
		{"a: 1\nb:\n  c: {type: File, doc: x\n  d: e\n", 4, 4, "did not find expected ',' or '}'"},
		// a key indented between two levels
		{"a:\n  b:\n    c: 1\n   d: 2\n", 4, 4, "did not find expected key"},
		// a second ':' on a line
		{"a:\n  b: c: d\n", 2, 7, "mapping values are not allowed in this context"},
		// a quoted text never closed: its opening quote
		{"a: 1\nb: \"abc\nc: d\n", 2, 4, "found unexpected end of stream"},
		// a tab that indents
		{"a:\n  b: 1\n\tc: 2\n", 3, 1, "found a tab character that violates indentation"},
		// a real mistake after a '?' that is none: the mistake is reported
		{"a: {type: File?}\nb:\n  c: 1\n   d: 2\n", 4, 5, "mapping values are not allowed in this context"},
		// JSON with a stray bracket
		{"{\n  \"a\": 1,\n  \"b\": 2]\n}\n", 3, 9, "did not find expected ',' or '}'"},
	} {
		_, err := ParseBytes([]byte(c.doc), "doc.cwl", "file:///doc.cwl")
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%q: error %v, want a schema.Error", c.doc, err)
			continue
		}
		if se.Pos.Line != c.line || se.Pos.Col != c.col || se.Msg != "invalid YAML: "+c.msg {
			t.Errorf("%q: %v, want doc.cwl:%d:%d: invalid YAML: %s", c.doc, err, c.line, c.col, c.msg)
		}
	}
}
