package conformance

import (
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// normalize turns a value decoded by yaml.v3 or encoding/json into the
// project's CWL value convention (see docs/CONVENTIONS.md): int64 for
// integers, float64 for other numbers, map[string]any and []any for
// containers. It always copies containers, so callers may keep the result
// while the input is reused. Types outside JSON become their printed form,
// which keeps the comparison total: it never meets a type it cannot handle.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
		return x
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		return uintValue(uint64(x))
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return uintValue(x)
	case float32:
		return float64(x)
	case json.Number:
		return numberValue(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	default:
		return fmt.Sprint(x)
	}
}

func uintValue(u uint64) any {
	if u > math.MaxInt64 {
		return float64(u)
	}
	return int64(u)
}

// numberValue keeps integers exact (a size or a long must not round through
// float64) and falls back to float64 for everything else.
func numberValue(n json.Number) any {
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return f
	}
	return n.String()
}

// render prints a value as compact JSON for a one-line message, cut short so
// a mismatch on a large object does not flood the terminal.
func render(v any) string {
	const limit = 160
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprintf("%v", v)
	}
	return shorten(s, limit)
}

// shorten cuts s to at most limit bytes on a rune boundary, marking the cut.
func shorten(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
