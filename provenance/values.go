package provenance

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// decodeRecord decodes a stored record the way CWL values are held in Go
// (docs/CONVENTIONS.md): integers come back as int64 and other numbers as
// float64, where plain json.Unmarshal would turn every number into a
// float64 and a cached output `count: 3` into 3.0.
func decodeRecord(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	switch r := v.(type) {
	case *Run:
		normalizeMap(r.Inputs)
		normalizeMap(r.Outputs)
	case *Attempt:
		normalizeMap(r.Outputs)
	case *CacheEntry:
		normalizeMap(r.Outputs)
	}
	return nil
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
