package engine

import (
	"cmp"
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"slices"
	"strconv"
	"strings"

	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/schema"
)

// A command line is built from bindings: every entry of arguments and
// every input (or record field, or array item) with an inputBinding
// contributes a few words at a sort key. Keys are compared element by
// element, numbers before names, a key before the keys that extend it, so
// "position 1 of input b" sorts after "position 1 of input a" and the items
// of an array follow the array's own prefix.

type sortKey []any // int64 or string elements

func compareKeys(a, b sortKey) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		xi, xIsInt := x.(int64)
		yi, yIsInt := y.(int64)
		switch {
		case xIsInt && yIsInt:
			if c := cmp.Compare(xi, yi); c != 0 {
				return c
			}
		case xIsInt:
			return -1
		case yIsInt:
			return 1
		default:
			if c := cmp.Compare(x.(string), y.(string)); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(a), len(b))
}

// word is one command-line word and whether it may be shell-quoted.
type word struct {
	text  string
	quote bool
}

type part struct {
	key   sortKey
	words []word
}

// cmdBuilder builds the argv of one job.
type cmdBuilder struct {
	ev     *expr.Evaluator
	inputs map[string]any
	rt     map[string]any
	parts  []part
}

func (b *cmdBuilder) eval(s any, self any) (any, error) {
	str, ok := s.(string)
	if !ok {
		return s, nil
	}
	return b.ev.Eval(str, expr.Context{Inputs: b.inputs, Self: self, Runtime: b.rt})
}

// build returns baseCommand followed by the sorted bindings.
func (b *cmdBuilder) build(p *schema.Process) ([]word, error) {
	for i, a := range p.Arguments {
		pos, err := b.position(a, nil)
		if err != nil {
			return nil, fmt.Errorf("arguments[%d]: %w", i, err)
		}
		if err := b.bindArgument(a, sortKey{pos, int64(i)}); err != nil {
			return nil, &schema.Error{Pos: a.Pos, Field: fmt.Sprintf("arguments[%d]", i), Msg: err.Error(), Err: err}
		}
	}
	for _, in := range p.Inputs {
		pos, err := b.position(in.InputBinding, b.inputs[in.ID])
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", in.ID, err)
		}
		if err := b.bind(in.InputBinding, in.Type, b.inputs[in.ID], nil, sortKey{pos, in.ID}); err != nil {
			return nil, &schema.Error{Pos: in.Pos, Field: "inputs." + in.ID + ".inputBinding", Msg: err.Error(), Err: err}
		}
	}
	slices.SortStableFunc(b.parts, func(x, y part) int { return compareKeys(x.key, y.key) })
	var out []word
	for _, c := range p.BaseCommand {
		out = append(out, word{text: c, quote: true})
	}
	for _, pt := range b.parts {
		out = append(out, pt.words...)
	}
	return out, nil
}

// position evaluates a binding's position (an int or an expression).
func (b *cmdBuilder) position(bd *schema.Binding, self any) (int64, error) {
	if bd == nil || bd.Position == nil {
		return 0, nil
	}
	v, err := b.eval(bd.Position, self)
	if err != nil {
		return 0, err
	}
	switch n := v.(type) {
	case int64:
		return n, nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("position must be an integer, got %s", schema.Describe(v))
}

func (b *cmdBuilder) bindArgument(a *schema.Binding, key sortKey) error {
	var v any = nil
	if a.HasValueFrom {
		var err error
		if v, err = b.eval(a.ValueFrom, nil); err != nil {
			return err
		}
	}
	ws, err := b.words(a, v)
	if err != nil {
		return err
	}
	b.parts = append(b.parts, part{key: key, words: ws})
	return nil
}

// bind adds the words of value v of type t bound by bd at key. bd may be
// nil: the value itself is then not on the command line, but fields or
// items with bindings of their own still are, sorted from base rather than
// from key (a record without a binding does not group its fields).
func (b *cmdBuilder) bind(bd *schema.Binding, t *schema.Type, v any, base, key sortKey) error {
	if v == nil {
		return nil
	}
	if bd != nil && bd.HasValueFrom {
		nv, err := b.eval(bd.ValueFrom, v)
		if err != nil {
			return err
		}
		ws, err := b.words(bd, nv)
		b.parts = append(b.parts, part{key: key, words: ws})
		return err
	}
	t = concreteType(t, v)
	if bd == nil && t != nil && t.InputBinding != nil && t.Kind != schema.TArray {
		bd = t.InputBinding
	}
	if bd == nil {
		return b.bindChildren(nil, t, v, base)
	}
	ws, err := b.words(bd, v)
	if err != nil {
		return err
	}
	b.parts = append(b.parts, part{key: key, words: ws})
	return b.bindChildren(bd, t, v, key)
}

// bindChildren binds the fields of a record or the items of an array.
func (b *cmdBuilder) bindChildren(bd *schema.Binding, t *schema.Type, v any, key sortKey) error {
	if t == nil {
		return nil
	}
	switch t.Kind {
	case schema.TRecord:
		m, _ := v.(map[string]any)
		for _, f := range t.Fields {
			pos, err := b.position(f.InputBinding, m[f.ID])
			if err != nil {
				return fmt.Errorf("field %q: %w", f.ID, err)
			}
			if err := b.bind(f.InputBinding, f.Type, m[f.ID], key, extend(key, pos, f.ID)); err != nil {
				return fmt.Errorf("field %q: %w", f.ID, err)
			}
		}
	case schema.TArray:
		items, _ := v.([]any)
		ib := t.InputBinding
		if ib == nil && bd != nil && bd.ItemSeparator == nil {
			ib = &schema.Binding{Separate: true, ShellQuote: true}
		}
		for i, it := range items {
			if err := b.bind(ib, t.Items, it, key, extend(key, int64(i))); err != nil {
				return err
			}
		}
	}
	return nil
}

func extend(k sortKey, more ...any) sortKey {
	out := make(sortKey, 0, len(k)+len(more))
	return append(append(out, k...), more...)
}

// concreteType resolves a union (or Any) to the member that v matches.
func concreteType(t *schema.Type, v any) *schema.Type {
	if t == nil {
		return nil
	}
	if t.Kind == schema.TUnion {
		if m := matchingMember(t, v); m != nil {
			return m
		}
	}
	return t
}

// words renders one binding of value v: prefix, separate, itemSeparator.
func (b *cmdBuilder) words(bd *schema.Binding, v any) ([]word, error) {
	var vals []string
	switch t := v.(type) {
	case nil:
		return nil, nil
	case bool:
		if t && bd.Prefix != "" {
			return []word{{bd.Prefix, bd.ShellQuote}}, nil
		}
		return nil, nil
	case []any:
		if len(t) == 0 {
			return nil, nil
		}
		if bd.ItemSeparator != nil {
			strs := make([]string, len(t))
			for i, it := range t {
				s, err := argText(it)
				if err != nil {
					return nil, err
				}
				strs[i] = s
			}
			vals = []string{strings.Join(strs, *bd.ItemSeparator)}
		} else if bd.HasValueFrom {
			for _, it := range t {
				s, err := argText(it)
				if err != nil {
					return nil, err
				}
				vals = append(vals, s)
			}
			return prefixed(bd, vals, true), nil
		} else {
			if bd.Prefix != "" {
				return []word{{bd.Prefix, bd.ShellQuote}}, nil
			}
			return nil, nil
		}
	case map[string]any:
		if !isFileOrDir(t) {
			if bd.Prefix != "" {
				return []word{{bd.Prefix, bd.ShellQuote}}, nil
			}
			return nil, nil
		}
		vals = []string{localPath(t)}
	default:
		s, err := argText(v)
		if err != nil {
			return nil, err
		}
		vals = []string{s}
	}
	return prefixed(bd, vals, false), nil
}

// prefixed puts the prefix before each value (or only once, for a list
// produced by valueFrom).
func prefixed(bd *schema.Binding, vals []string, once bool) []word {
	var out []word
	if bd.Prefix != "" && once {
		out = append(out, word{bd.Prefix, bd.ShellQuote})
		for _, v := range vals {
			out = append(out, word{v, bd.ShellQuote})
		}
		return out
	}
	for _, v := range vals {
		switch {
		case bd.Prefix == "":
			out = append(out, word{v, bd.ShellQuote})
		case bd.Separate:
			out = append(out, word{bd.Prefix, bd.ShellQuote}, word{v, bd.ShellQuote})
		default:
			out = append(out, word{bd.Prefix + v, bd.ShellQuote})
		}
	}
	return out
}

// argText renders a scalar the way it appears on a command line.
func argText(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case float64:
		return decimalFloat(t), nil
	case bool:
		if t {
			return "true", nil
		}
		return "false", nil
	case map[string]any:
		if isFileOrDir(t) {
			return localPath(t), nil
		}
	case nil:
		return "null", nil
	}
	return expr.ToString(v), nil
}

// decimalFloat prints a float in plain decimal notation, never with an
// exponent, and without a fraction when it has none: 0.00001, 123000.
func decimalFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// shellJoin renders words for /bin/sh -c, quoting those that may be.
func shellJoin(ws []word) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		if w.quote {
			parts[i] = shell.Quote(w.text)
		} else {
			parts[i] = w.text
		}
	}
	return strings.Join(parts, " ")
}
