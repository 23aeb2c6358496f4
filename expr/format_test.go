package expr

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/dop251/goja"
)

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{int64(1), "1"},
		{int64(-42), "-42"},
		{int64(math.MaxInt64), "9223372036854775807"},
		{1.0, "1"},
		{1.5, "1.5"},
		{-0.0, "0"},
		{0.00001, "0.00001"},
		{0.000001, "0.000001"},
		{0.0000001, "1e-7"},
		{1.5e-7, "1.5e-7"},
		{123000.0, "123000"},
		{1e20, "100000000000000000000"},
		{1e21, "1e+21"},
		{1.25e22, "1.25e+22"},
		{0.30000000000000004, "0.30000000000000004"},
		{44.4, "44.4"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{float32(0.1), "0.1"},
		{3, "3"},
		{json.Number("12"), "12"},
		{json.Number("1.50"), "1.5"},
		{json.Number("4.2e42"), "4.2e+42"},
		// Literals CWL values keep because a float64 would round them.
		{json.Number("4200000000000000000000000000000000000000000"), "4200000000000000000000000000000000000000000"},
		{json.Number("-18446744073709551615"), "-18446744073709551615"},
		{json.Number("0.10000000000000000000001"), "0.10000000000000000000001"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.in); got != tt.want {
			t.Errorf("FormatNumber(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFormatNumberMatchesJS compares FormatNumber with goja's own
// Number.prototype.toString on many numbers of all magnitudes.
func TestFormatNumberMatchesJS(t *testing.T) {
	vm := goja.New()
	rnd := rand.New(rand.NewSource(1))
	check := func(f float64) {
		want := vm.ToValue(f).String()
		if got := FormatNumber(f); got != want {
			t.Fatalf("FormatNumber(%v) = %q, JavaScript says %q", f, got, want)
		}
	}
	for i := 0; i < 20000; i++ {
		check(math.Float64frombits(rnd.Uint64()))
		check(rnd.Float64() * math.Pow(10, float64(rnd.Intn(60)-30)))
		check(float64(rnd.Int63n(1<<53)) * math.Pow(10, float64(rnd.Intn(10)-5)))
	}
}

func TestToString(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"text", "text"},
		{`quote " and \ stay`, `quote " and \ stay`},
		{nil, "null"},
		{true, "true"},
		{int64(7), "7"},
		{2.5, "2.5"},
		{[]any{int64(1), "a", nil, false}, `[1, "a", null, false]`},
		{map[string]any{"b": int64(1), "a": []any{}, "c": map[string]any{}}, `{"a": [], "b": 1, "c": {}}`},
		{map[string]any{"k": "é\n\"\\\t\x01😀"}, `{"k": "\u00e9\n\"\\\t\u0001\ud83d\ude00"}`},
		{[]any{1e21, 0.00001}, `[1e+21, 0.00001]`},
		{[]string{"x", "y"}, `["x", "y"]`},
	}
	for _, tt := range tests {
		if got := ToString(tt.in); got != tt.want {
			t.Errorf("ToString(%#v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestToStringConformance checks the JSON layout against the checksums of
// the conformance tests iwd-jsondump1-nl and iwd-jsondump2-nl, which write
// an interpolated array / object (plus a newline) into a file.
func TestToStringConformance(t *testing.T) {
	var ls []any
	for i := 1; i < 10000; i++ {
		ls = append(ls, fmt.Sprintf("example_input_file%d.txt", i))
	}
	tests := []struct {
		v    any
		sha1 string
	}{
		{ls, "7307f027449371b3642c1f7c32124218af0e41b5"},
		{map[string]any{"filelist": ls}, "750c95cb45561cd1d863506f82a1a75fffd53a54"},
		{44.4, "0b02e6b07d199025bfdcfc6b9830d550a0a6bde9"},
	}
	for _, tt := range tests {
		sum := sha1.Sum([]byte(ToString(tt.v) + "\n"))
		if got := hex.EncodeToString(sum[:]); got != tt.sha1 {
			t.Errorf("ToString(%T) + newline: sha1 %s, want %s", tt.v, got, tt.sha1)
		}
	}
}
