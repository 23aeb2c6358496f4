package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/flow-cwl/flow/internal/cwljson"
)

// Pos is a place in a source document, for error messages.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return "<input>"
	case p.Line == 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Kind tells what a Node holds.
type Kind int

const (
	ScalarNode Kind = iota
	MapNode
	SeqNode
)

// Node is a YAML or JSON value that remembers where it came from. The loader
// resolves $import and $include while building the tree, so a Node taken from
// an imported file still points into that file.
type Node struct {
	Kind  Kind
	Pos   Pos
	Value any // ScalarNode: nil, bool, int64, float64, json.Number (a number neither holds exactly) or string
	Keys  []string
	Vals  []*Node // MapNode values, parallel to Keys (document order)
	Items []*Node // SeqNode
	// Base is the URI that ids and relative references inside this node
	// resolve against: the file it was read from.
	Base string
	// keyPos holds where each key of a MapNode is written, when known.
	keyPos map[string]Pos
}

// KeyPos returns where key is written in a map node, or where its value
// is when that is not known (a key added by code, or by a YAML merge).
func (n *Node) KeyPos(key string) Pos {
	if p, ok := n.keyPos[key]; ok {
		return p
	}
	if v := n.Get(key); v != nil {
		return v.Pos
	}
	return n.Pos
}

// Get returns the value under key of a map node, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != MapNode {
		return nil
	}
	for i, k := range n.Keys {
		if k == key {
			return n.Vals[i]
		}
	}
	return nil
}

// Has reports whether a map node has key.
func (n *Node) Has(key string) bool { return n.Get(key) != nil }

// Str returns the node's text when it is a scalar string.
func (n *Node) Str() (string, bool) {
	if n == nil || n.Kind != ScalarNode {
		return "", false
	}
	s, ok := n.Value.(string)
	return s, ok
}

// IsNull reports whether n is absent or an explicit null.
func (n *Node) IsNull() bool {
	return n == nil || (n.Kind == ScalarNode && n.Value == nil)
}

// Set replaces or adds key in a map node.
func (n *Node) Set(key string, v *Node) {
	for i, k := range n.Keys {
		if k == key {
			n.Vals[i] = v
			return
		}
	}
	n.Keys = append(n.Keys, key)
	n.Vals = append(n.Vals, v)
}

// Delete removes key from a map node.
func (n *Node) Delete(key string) {
	for i, k := range n.Keys {
		if k == key {
			n.Keys = append(n.Keys[:i:i], n.Keys[i+1:]...)
			n.Vals = append(n.Vals[:i:i], n.Vals[i+1:]...)
			return
		}
	}
}

// Plain converts the node to a plain Go value (see docs/CONVENTIONS.md).
func (n *Node) Plain() any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case MapNode:
		m := make(map[string]any, len(n.Keys))
		for i, k := range n.Keys {
			m[k] = n.Vals[i].Plain()
		}
		return m
	case SeqNode:
		l := make([]any, len(n.Items))
		for i, it := range n.Items {
			l[i] = it.Plain()
		}
		return l
	}
	return n.Value
}

// FromPlain builds a Node from a plain Go value, all at one position.
func FromPlain(v any, pos Pos, base string) *Node {
	n := &Node{Pos: pos, Base: base}
	switch t := v.(type) {
	case map[string]any:
		n.Kind = MapNode
		for _, k := range sortedKeys(t) {
			n.Keys = append(n.Keys, k)
			n.Vals = append(n.Vals, FromPlain(t[k], pos, base))
		}
	case []any:
		n.Kind = SeqNode
		for _, it := range t {
			n.Items = append(n.Items, FromPlain(it, pos, base))
		}
	default:
		n.Value = t
	}
	return n
}

// scalarValue decodes a YAML scalar by its resolved tag.
func scalarValue(y *yaml.Node) (any, error) {
	switch y.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		err := y.Decode(&b)
		return b, err
	case "!!int":
		i, err := parseInt(strings.ReplaceAll(y.Value, "_", ""))
		if err != nil {
			// Beyond int64: the literal, not a float64 that rounds it.
			if n, ok := cwljson.Number(strings.ReplaceAll(y.Value, "_", "")); ok {
				return n, nil
			}
			var f float64
			if y.Decode(&f) == nil {
				return f, nil
			}
		}
		return i, err
	case "!!float":
		// yaml.v3 calls an integer beyond int64 a float; it and decimals
		// with more digits than a float64 keeps stay as written.
		if n, ok := cwljson.Number(strings.ReplaceAll(y.Value, "_", "")); ok {
			if _, exact := n.(json.Number); exact {
				return n, nil
			}
		}
		var f float64
		if err := y.Decode(&f); err != nil {
			return nil, err
		}
		return f, nil
	}
	return y.Value, nil
}

// parseInt reads an integer as YAML 1.2 writes one, as other CWL runners
// read it: 0o17 octal, 0x1f hexadecimal, and a leading zero nothing but a
// zero, so 0777 is seven hundred and seventy-seven (YAML 1.1, and Go's
// base 0, would make it octal).
func parseInt(lit string) (int64, error) {
	sign, digits := "", lit
	if strings.HasPrefix(digits, "-") || strings.HasPrefix(digits, "+") {
		sign, digits = digits[:1], digits[1:]
	}
	base := 10
	for prefix, b := range map[string]int{"0o": 8, "0x": 16, "0b": 2} {
		if rest, ok := strings.CutPrefix(digits, prefix); ok {
			base, digits = b, rest
		}
	}
	return strconv.ParseInt(sign+digits, base, 64)
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
