package engine

import (
	"bytes"
	"encoding/json"
	"testing"
)

// WriteJSON lays out an output object exactly as encoding/json's compact
// encoding indented by json.Indent: users and tools read flow's output.
func TestWriteJSONMatchesIndent(t *testing.T) {
	deep := any("bottom")
	for range 20000 { // deeper than json.Indent accepts
		deep = []any{deep}
	}
	for name, v := range map[string]any{
		"scatter": map[string]any{"outs": []any{
			map[string]any{"class": "File", "path": "/o/a <b> & c.txt", "size": int64(10), "checksum": "sha1$00"},
			map[string]any{"class": "File", "path": "/o/é\u2028.txt", "size": 1.5e21},
		}},
		"empties":   map[string]any{"a": []any{}, "b": map[string]any{}, "c": nil, "d": []any(nil), "e": map[string]any(nil)},
		"typed":     map[string]any{"s": []string{"x", "y"}, "m": map[string]int{"k": 1}, "n": []int{}},
		"scalars":   []any{true, false, 0, -3.25, "q\"uote", "<tag>"},
		"empty top": map[string]any{},
		"string":    "top",
	} {
		var got bytes.Buffer
		if err := WriteJSON(&got, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var compact, want bytes.Buffer
		enc := json.NewEncoder(&compact)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&want, compact.Bytes(), "", "    "); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: got\n%s\nwant\n%s", name, got.String(), want.String())
		}
	}
	var got bytes.Buffer
	if err := WriteJSON(&got, map[string]any{"deep": deep}); err != nil {
		t.Fatal(err)
	}
	// Deeper than encoding/json's scanner goes: count the brackets.
	if n := bytes.Count(got.Bytes(), []byte("[")); n != 20000 || bytes.Count(got.Bytes(), []byte("]")) != n {
		t.Errorf("deep list written with %d opening brackets, want 20000", n)
	}
}
