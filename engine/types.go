package engine

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/flow-cwl/flow/schema"
)

// matches reports whether v is a valid value of type t (CWL's rules: an
// int is a valid float, null only where the type allows it).
func matches(t *schema.Type, v any) bool {
	if t == nil {
		return true
	}
	switch t.Kind {
	case schema.TAny:
		return v != nil
	case schema.TNull:
		return v == nil
	case schema.TBoolean:
		_, ok := v.(bool)
		return ok
	case schema.TInt, schema.TLong:
		return isInt(v)
	case schema.TFloat, schema.TDouble:
		switch v.(type) {
		case float64, json.Number: // json.Number: a literal float64 cannot hold exactly
			return true
		}
		return isInt(v)
	case schema.TString:
		_, ok := v.(string)
		return ok
	case schema.TFile:
		return isClass(v, "File")
	case schema.TDirectory:
		return isClass(v, "Directory")
	case schema.TEnum:
		s, ok := v.(string)
		return ok && slices.Contains(t.Symbols, shortSymbol(s))
	case schema.TArray:
		l, ok := v.([]any)
		if !ok {
			return false
		}
		for _, it := range l {
			if !matches(t.Items, it) {
				return false
			}
		}
		return true
	case schema.TRecord:
		m, ok := v.(map[string]any)
		if !ok || isFileOrDir(v) {
			return false
		}
		for _, f := range t.Fields {
			if !matches(f.Type, m[f.ID]) {
				return false
			}
		}
		return true
	case schema.TUnion:
		return matchingMember(t, v) != nil
	}
	return false
}

// matchingMember returns the first member of union t that v matches.
func matchingMember(t *schema.Type, v any) *schema.Type {
	if t.Kind != schema.TUnion {
		if matches(t, v) {
			return t
		}
		return nil
	}
	for _, u := range t.Union {
		if m := matchingMember(u, v); m != nil {
			return m
		}
	}
	return nil
}

// isInt reports whether v is a CWL int. A float with no fraction is not
// one: documents and input objects say 1 for an int and 1.0 for a float.
func isInt(v any) bool {
	_, ok := v.(int64)
	return ok
}

// shortSymbol strips a full enum symbol URI to its name.
func shortSymbol(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' || s[i] == '#' {
			return s[i+1:]
		}
	}
	return s
}

// typeError explains why v is not a valid value of t.
func typeError(what string, t *schema.Type, v any) error {
	if v == nil {
		return fmt.Errorf("%s is required (type %s) but has no value", what, t)
	}
	return fmt.Errorf("%s expects %s, got %s", what, t, schema.Describe(v))
}

// coerce converts v to the representation type t asks for: ints become
// floats for float types, when the float64 is exactly the int (beyond
// 2^53 the int stays, so the number is not rounded); enum symbols are
// shortened. It walks arrays and records so nested values follow their
// declared types.
func coerce(t *schema.Type, v any) any {
	if t == nil || v == nil {
		return v
	}
	switch t.Kind {
	case schema.TFloat, schema.TDouble:
		if i, ok := v.(int64); ok && -1<<53 <= i && i <= 1<<53 {
			return float64(i)
		}
	case schema.TEnum:
		if s, ok := v.(string); ok {
			return shortSymbol(s)
		}
	case schema.TArray:
		if l, ok := v.([]any); ok {
			out := make([]any, len(l))
			for i, it := range l {
				out[i] = coerce(t.Items, it)
			}
			return out
		}
	case schema.TRecord:
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, it := range m {
				out[k] = it
			}
			for _, f := range t.Fields {
				if fv, ok := out[f.ID]; ok {
					out[f.ID] = coerce(f.Type, fv)
				}
			}
			return out
		}
	case schema.TUnion:
		if m := matchingMember(t, v); m != nil {
			return coerce(m, v)
		}
	}
	return v
}
