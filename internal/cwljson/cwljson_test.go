package cwljson

import (
	"encoding/json"
	"testing"
)

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		lit  string
		want any
	}{
		{"42", int64(42)},
		{"-4147483647", int64(-4147483647)},
		{"9007199254740993", int64(9007199254740993)}, // 2^53+1: int64 keeps it
		{"+7", int64(7)},
		{"0.1", 0.1},
		{"4.2", 4.2},
		{"1.50", 1.5},
		{"4.2e42", 4.2e42},
		{"-0.0", -0.0},
		{"1e2", 100.0},
		// Beyond int64: the literal, whatever a float64 would make of it.
		{"4200000000000000000000000000000000000000000", json.Number("4200000000000000000000000000000000000000000")},
		{"-1000000000000000000000000000000000000000000", json.Number("-1000000000000000000000000000000000000000000")},
		{"9223372036854775808", json.Number("9223372036854775808")},
		// More digits than a float64 keeps.
		{"0.10000000000000000000001", json.Number("0.10000000000000000000001")},
		{"9007199254740993.0", json.Number("9007199254740993.0")},
		{"1e400", json.Number("1e400")},
		// YAML spellings become JSON's.
		{"+4200000000000000000000000000000000000000000", json.Number("4200000000000000000000000000000000000000000")},
		{"0004200000000000000000000000000000000000000000", json.Number("4200000000000000000000000000000000000000000")},
		{".10000000000000000000001", json.Number("1.0000000000000000000001e-1")},
	} {
		got, ok := Number(c.lit)
		if !ok || got != c.want {
			t.Errorf("Number(%q) = %#v, %v; want %#v", c.lit, got, ok, c.want)
		}
		if n, isNum := got.(json.Number); isNum {
			if _, err := json.Marshal(n); err != nil {
				t.Errorf("Number(%q) = %q, not JSON: %v", c.lit, n, err)
			}
		}
	}
	for _, lit := range []string{"", ".", "0x1F", ".inf", "1e", "abc", "1_000", "1e1234567890"} {
		if v, ok := Number(lit); ok {
			t.Errorf("Number(%q) = %#v, want not a number", lit, v)
		}
	}
}

// Stored values come back as they were stored: exact numbers stay exact,
// and printing them again gives the same JSON.
func TestDecodeNormalizeRoundTrip(t *testing.T) {
	in := `{"a":4200000000000000000000000000000000000000000,"b":[9007199254740993,-1000000000000000000000000000000000000000000],"c":{"d":0.1,"e":3}}`
	var m map[string]any
	if err := Decode([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	Normalize(m)
	if _, ok := m["c"].(map[string]any)["e"].(int64); !ok {
		t.Errorf("3 decoded as %T", m["c"].(map[string]any)["e"])
	}
	if _, ok := m["c"].(map[string]any)["d"].(float64); !ok {
		t.Errorf("0.1 decoded as %T", m["c"].(map[string]any)["d"])
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip:\n got %s\nwant %s", out, in)
	}
}
