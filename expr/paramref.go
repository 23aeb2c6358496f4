package expr

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// A parameter reference is the JavaScript subset the CWL spec requires
// without InlineJavascriptRequirement:
//
//	reference ::= symbol segment*
//	segment   ::= "." symbol | "['" text "']" | `["` text `"]` | "[" digits "]"
//
// where a symbol is a run of Unicode letters, digits and underscores (as
// cwltool's \w), and quoted text may escape its quote or a backslash with a
// backslash. References are resolved directly on the Go values, so they never
// need a JavaScript runtime, even when JavaScript is enabled.
type paramRef struct {
	src  string // the text between "$(" and ")"
	root string
	segs []refSeg
}

// refSeg is one step of a reference: a key (.name, ['name'], ["name"]) or an
// array index ([3]).
type refSeg struct {
	key     string
	index   int
	isIndex bool
	end     int // offset in src just after the segment, to name paths in errors
}

// parseParamRef parses src as a parameter reference. It reports false when
// src is anything else, which then needs JavaScript.
func parseParamRef(src string) (*paramRef, bool) {
	p := refParser{src: src}
	root, ok := p.symbol()
	if !ok {
		return nil, false
	}
	ref := &paramRef{src: src, root: root}
	for p.pos < len(src) {
		seg, ok := p.segment()
		if !ok {
			return nil, false
		}
		seg.end = p.pos
		ref.segs = append(ref.segs, seg)
	}
	return ref, true
}

type refParser struct {
	src string
	pos int
}

func isSymbolRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func (p *refParser) symbol() (string, bool) {
	start := p.pos
	for p.pos < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if !isSymbolRune(r) {
			break
		}
		p.pos += size
	}
	return p.src[start:p.pos], p.pos > start
}

func (p *refParser) segment() (refSeg, bool) {
	switch p.src[p.pos] {
	case '.':
		p.pos++
		key, ok := p.symbol()
		return refSeg{key: key}, ok
	case '[':
		p.pos++
		var seg refSeg
		var ok bool
		if p.pos < len(p.src) && (p.src[p.pos] == '\'' || p.src[p.pos] == '"') {
			seg.key, ok = p.quoted()
		} else {
			seg.index, ok = p.digits()
			seg.isIndex = true
		}
		if !ok || p.pos >= len(p.src) || p.src[p.pos] != ']' {
			return refSeg{}, false
		}
		p.pos++
		return seg, true
	}
	return refSeg{}, false
}

// quoted reads a '...' or "..." key. Only the quote and the backslash may be
// escaped; other escapes (\n, \u...) are left to JavaScript, which knows them.
func (p *refParser) quoted() (string, bool) {
	q := p.src[p.pos]
	p.pos++
	var key []byte
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		p.pos++
		switch c {
		case q:
			return string(key), true
		case '\\':
			if p.pos >= len(p.src) || (p.src[p.pos] != '\'' && p.src[p.pos] != '"' && p.src[p.pos] != '\\') {
				return "", false
			}
			c = p.src[p.pos]
			p.pos++
		}
		key = append(key, c)
	}
	return "", false
}

func (p *refParser) digits() (int, bool) {
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	n, err := strconv.Atoi(p.src[start:p.pos])
	return n, err == nil && p.pos > start
}

// resolve looks the reference up in c, following the algorithm of the CWL
// spec. Any failure (unknown root, missing key, index out of range, wrong
// type) is an error; JavaScript would instead yield undefined or throw, so
// with JavaScript enabled the caller falls back to evaluating the JS.
func (r *paramRef) resolve(c *Context) (any, error) {
	var cur any
	switch r.root {
	case "null":
		if len(r.segs) > 0 {
			return nil, fmt.Errorf("null has no fields")
		}
		return nil, nil
	case "inputs":
		cur = nonNilMap(c.Inputs)
	case "self":
		cur = c.Self
	case "runtime":
		cur = nonNilMap(c.Runtime)
	default:
		return nil, fmt.Errorf("%s is not defined (only inputs, self and runtime are)", r.root)
	}
	prev := len(r.root)
	for i, seg := range r.segs {
		var err error
		cur, err = step(cur, seg, i == len(r.segs)-1, r.src[:prev])
		if err != nil {
			return nil, err
		}
		prev = seg.end
	}
	return cur, nil
}

// step applies one segment to the value cur found at path.
func step(cur any, seg refSeg, last bool, path string) (any, error) {
	switch v := cur.(type) {
	case nil:
		return nil, fmt.Errorf("%s is null, it has no %s", path, segName(seg))
	case map[string]any:
		if seg.isIndex {
			break
		}
		if x, ok := v[seg.key]; ok {
			return x, nil
		}
		return nil, fmt.Errorf("%s has no field %q", path, seg.key)
	case []any:
		if seg.isIndex {
			if seg.index >= len(v) {
				return nil, fmt.Errorf("%s has %d elements, index %d is out of range", path, len(v), seg.index)
			}
			return v[seg.index], nil
		}
		if seg.key == "length" && last {
			return int64(len(v)), nil
		}
		if seg.key == "length" {
			return nil, fmt.Errorf("%s is an array, it has no field \"length\" (only a final .length gives its size)", path)
		}
	case string:
		return stringStep(v, seg, last, path)
	case bool, int64, float64, json.Number:
	default:
		// []string, map[string]string ... behave like []any, map[string]any.
		if g, ok := normalizeReflect(cur); ok {
			return step(g, seg, last, path)
		}
	}
	return nil, fmt.Errorf("%s is %s, it has no %s", path, typeName(cur), segName(seg))
}

// stringStep gives .length and [i] of a string with JavaScript's UTF-16
// semantics, so the answer is the same as with JavaScript enabled.
func stringStep(s string, seg refSeg, last bool, path string) (any, error) {
	switch {
	case seg.isIndex:
		u := utf16.Encode([]rune(s))
		if seg.index >= len(u) {
			return nil, fmt.Errorf("%s has %d characters, index %d is out of range", path, len(u), seg.index)
		}
		return string(utf16.Decode(u[seg.index : seg.index+1])), nil
	case seg.key == "length" && last:
		return int64(utf16Len(s)), nil
	}
	return nil, fmt.Errorf("%s is a string, it has no %s", path, segName(seg))
}

func segName(seg refSeg) string {
	if seg.isIndex {
		return fmt.Sprintf("element %d", seg.index)
	}
	return fmt.Sprintf("field %q", seg.key)
}

// typeName names a value's CWL/JSON type with an article, for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case int64, int, int32, float64, float32, json.Number:
		return "a number"
	}
	return fmt.Sprintf("a Go %T", v)
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
