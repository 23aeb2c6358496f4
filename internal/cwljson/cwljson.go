// Package cwljson decodes stored JSON into values the way flow holds CWL
// values in Go (docs/CONVENTIONS.md): integers as int64, other numbers as
// float64. Plain json.Unmarshal turns every number into a float64, so a
// recorded output `count: 3` would come back as 3.0.
package cwljson

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Decode decodes data into v keeping numbers as json.Number, for
// Normalize to finish on the CWL values inside v.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// Normalize replaces, in place, the json.Numbers in m by int64 or float64.
func Normalize(m map[string]any) {
	for k, v := range m {
		m[k] = number(v)
	}
}

func number(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		Normalize(v)
	case []any:
		for i, e := range v {
			v[i] = number(e)
		}
	}
	return v
}
