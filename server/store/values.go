package store

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// decodeJSON decodes a stored record keeping numbers as json.Number, so
// that normalizeMap can give run inputs and outputs back the way CWL
// values are held in Go (docs/CONVENTIONS.md): integers as int64, other
// numbers as float64, where plain json.Unmarshal would turn `count: 3`
// into 3.0.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

func normalizeMap(m map[string]any) {
	for k, v := range m {
		m[k] = normalizeNumbers(v)
	}
}

// normalizeNumbers replaces json.Numbers in v, in place, by int64 or float64.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		normalizeMap(v)
	case []any:
		for i, e := range v {
			v[i] = normalizeNumbers(e)
		}
	}
	return v
}
