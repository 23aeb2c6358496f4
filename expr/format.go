package expr

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/flow-cwl/flow/internal/cwljson"
)

// FormatNumber prints a number the way JavaScript's Number.prototype.toString
// does: integral values without a fraction ("3", not "3.0"), plain decimal
// notation between 1e-7 and 1e21, exponent notation ("1e+21", "1e-7")
// outside. Integer types print exactly, even beyond 2^53, and so does a
// json.Number that neither int64 nor float64 holds exactly: CWL values keep
// such literals (4200000000000000000000000000000000000000000), and a
// parameter reference passes them on as written, as cwltool does. Values
// that are not numbers fall back to fmt's default formatting.
func FormatNumber(v any) string {
	switch n := v.(type) {
	case int64:
		return strconv.FormatInt(n, 10)
	case int:
		return strconv.Itoa(n)
	case int32:
		return strconv.FormatInt(int64(n), 10)
	case uint64:
		return strconv.FormatUint(n, 10)
	case float64:
		return formatFloat(n, 64)
	case float32:
		// Shortest digits of the float32, so float32(0.1) prints "0.1"
		// rather than the digits of its float64 widening.
		return formatFloat(float64(n), 32)
	case json.Number:
		switch v := cwljson.NumberOrLiteral(n).(type) {
		case int64:
			return strconv.FormatInt(v, 10)
		case float64:
			return formatFloat(v, 64)
		}
		return n.String()
	}
	return fmt.Sprint(v)
}

// formatFloat implements ECMAScript's Number::toString(x) for radix 10.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0" // also for -0, as in JavaScript
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// strconv gives the shortest digits that round-trip: "d.ddde±x".
	e := strconv.FormatFloat(f, 'e', -1, bits)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k := len(digits)
	n := x + 1 // position of the decimal point relative to the digits
	var s string
	switch {
	case k <= n && n <= 21:
		s = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		s = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		s = "0." + strings.Repeat("0", -n) + digits
	default:
		s = digits[:1]
		if k > 1 {
			s += "." + digits[1:]
		}
		if n-1 >= 0 {
			s += "e+" + strconv.Itoa(n-1)
		} else {
			s += "e-" + strconv.Itoa(1-n)
		}
	}
	return sign + s
}

// ToString is the text a value contributes when it is interpolated into a
// longer string: strings as they are, everything else as JSON. The JSON is
// laid out like cwltool's (Python's json.dumps with sort_keys): ", " and ": "
// separators, keys sorted, non-ASCII escaped as \uXXXX. Numbers use the
// JavaScript notation of FormatNumber.
func ToString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	writeJSON(&b, v, 0)
	return b.String()
}

// maxDepth bounds recursion into values so a cyclic or absurdly deep value
// produces an error (or a placeholder) instead of exhausting the stack.
const maxDepth = 1000

func writeJSON(b *strings.Builder, v any, depth int) {
	if depth > maxDepth {
		b.WriteString("null")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeJSONString(b, x)
	case int64, int, int32, uint64, float32, json.Number:
		b.WriteString(FormatNumber(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null") // what JSON.stringify does
			return
		}
		b.WriteString(formatFloat(x, 64))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e, depth+1)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(b, k)
			b.WriteString(": ")
			writeJSON(b, x[k], depth+1)
		}
		b.WriteByte('}')
	default:
		writeJSONReflect(b, v, depth)
	}
}

// writeJSONReflect covers slices and string-keyed maps of other element
// types ([]string, map[string]string ...) that callers may pass in.
func writeJSONReflect(b *strings.Builder, v any, depth int) {
	if g, ok := normalizeReflect(v); ok {
		writeJSON(b, g, depth)
		return
	}
	writeJSONString(b, fmt.Sprint(v))
}

// normalizeReflect converts a slice or a string-keyed map of any element type
// into []any or map[string]any (one level; elements stay as they are).
func normalizeReflect(v any) (any, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out, true
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[it.Key().String()] = it.Value().Interface()
		}
		return out, true
	}
	return nil, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // byte order of UTF-8 is code point order, like Python
	return keys
}

// writeJSONString quotes s the way Python's json.dumps does with its default
// ensure_ascii: printable ASCII stays, everything else is escaped.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	u4 := func(r rune) {
		b.WriteString(`\u`)
		for shift := 12; shift >= 0; shift -= 4 {
			b.WriteByte(hex[(r>>shift)&0xf])
		}
	}
	b.WriteByte('"')
	for _, r := range s { // invalid UTF-8 decodes as U+FFFD
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			u4(0xd800 + (r>>10)&0x3ff)
			u4(0xdc00 + r&0x3ff)
		default:
			u4(r)
		}
	}
	b.WriteByte('"')
}

// utf16Len is a string's length as JavaScript counts it (UTF-16 code units).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r > 0xffff {
			n += 2
		} else {
			n++
		}
	}
	return n
}
