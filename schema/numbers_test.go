package schema

import (
	"encoding/json"
	"testing"

	"gopkg.in/yaml.v3"
)

// Numbers a float64 would round keep their literal; the others decode as
// before, an explicit !!float included.
func TestScalarNumbers(t *testing.T) {
	n, err := ParseBytes([]byte(`a: 4200000000000000000000000000000000000000000
b: 18446744073709551615
c: 0.10000000000000000000001
d: 9007199254740993
e: !!float 1
f: 4.2e42
g: 1_000
`), "numbers.yml", "file:///numbers.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": json.Number("4200000000000000000000000000000000000000000"),
		"b": json.Number("18446744073709551615"),
		"c": json.Number("0.10000000000000000000001"),
		"d": int64(9007199254740993),
		"e": 1.0,
		"f": 4.2e42,
		"g": int64(1000),
	}
	got := n.Plain().(map[string]any)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %#v, want %#v", k, got[k], w)
		}
	}
}

// Integers read as YAML 1.2 writes them, as other CWL runners read them:
// a leading zero is not octal.
func TestIntegersAreReadAsYAML12(t *testing.T) {
	for text, want := range map[string]int64{"0777": 777, "010": 10, "-010": -10, "0o17": 15, "0x1f": 31, "+5": 5, "1_000": 1000} {
		var y yaml.Node
		if err := yaml.Unmarshal([]byte(text), &y); err != nil {
			t.Fatal(err)
		}
		got, err := scalarValue(y.Content[0])
		if err != nil || got != want {
			t.Errorf("%s: got %v (%T), %v; want %d", text, got, got, err, want)
		}
	}
}
