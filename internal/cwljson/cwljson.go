// Package cwljson decodes numbers into the Go values flow holds CWL values
// in (docs/CONVENTIONS.md): integers as int64, other numbers as float64,
// and a number neither holds exactly as its literal, a json.Number. Plain
// json.Unmarshal turns every number into a float64, so a recorded output
// `count: 3` would come back as 3.0 and 4200000000000000000000000000000000000000000
// as 4.2e+42.
package cwljson

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// Decode decodes data into v keeping numbers as json.Number, for
// Normalize to finish on the CWL values inside v.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// Normalize replaces, in place, the json.Numbers in m by what Number makes
// of them.
func Normalize(m map[string]any) {
	for k, v := range m {
		m[k] = normalize(v)
	}
}

func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		return NumberOrLiteral(v)
	case map[string]any:
		Normalize(v)
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
	}
	return v
}

// Number is the CWL value of a decimal number literal (JSON's, or YAML's
// with an optional "+"): an int64 when it is an integer that fits; a
// float64 when the float64's shortest form has the literal's value (0.1,
// 4.2e42, 1.50); otherwise the literal itself as a json.Number, so that
// it is printed back as it was written: an integer beyond int64, or more
// digits than a float64 keeps. ok is false when lit is not such a literal
// (hexadecimal, ".inf", text).
func Number(lit string) (v any, ok bool) {
	d, ok := parseDecimal(lit)
	if !ok {
		return nil, false
	}
	if d.integral {
		if i, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return i, true
		}
		return json.Number(d.json(lit)), true
	}
	if f, err := strconv.ParseFloat(lit, 64); err == nil {
		if e, ok := parseDecimal(strconv.FormatFloat(f, 'e', -1, 64)); ok && e.same(d) {
			return f, true
		}
	}
	return json.Number(d.json(lit)), true
}

// decimal is a number's value as sign, significant digits (no leading or
// trailing zeros; "" for zero) and the power of ten they are multiplied by.
type decimal struct {
	neg      bool
	digits   string
	exp      int
	integral bool // written without a fraction or exponent
}

var literal = regexp.MustCompile(`^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]{1,9}))?$`)

// jsonLiteral is JSON's number grammar: what a json.Number may hold.
var jsonLiteral = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$`)

func parseDecimal(s string) (decimal, bool) {
	m := literal.FindStringSubmatch(s)
	if m == nil || m[2]+m[3] == "" {
		return decimal{}, false
	}
	d := decimal{neg: m[1] == "-", integral: !strings.ContainsAny(s, ".eE")}
	if m[4] != "" {
		d.exp, _ = strconv.Atoi(m[4])
	}
	digits := strings.TrimLeft(m[2]+m[3], "0")
	d.exp -= len(m[3])
	trimmed := strings.TrimRight(digits, "0")
	d.exp += len(digits) - len(trimmed)
	d.digits = trimmed
	if d.digits == "" {
		d.neg, d.exp = false, 0
	}
	return d, true
}

func (d decimal) same(e decimal) bool {
	return d.neg == e.neg && d.digits == e.digits && d.exp == e.exp
}

// json is the literal lit in JSON's grammar: lit itself when it already
// is, else the same value spelled out (YAML allows "+1", "007", ".5").
func (d decimal) json(lit string) string {
	if jsonLiteral.MatchString(lit) {
		return lit
	}
	sign := ""
	if d.neg {
		sign = "-"
	}
	switch {
	case d.digits == "":
		return "0"
	case d.integral:
		return sign + d.digits + strings.Repeat("0", d.exp)
	case len(d.digits) == 1:
		return sign + d.digits + "e" + strconv.Itoa(d.exp)
	}
	return sign + d.digits[:1] + "." + d.digits[1:] + "e" + strconv.Itoa(d.exp+len(d.digits)-1)
}

// NumberOrLiteral is Number of n's literal, or n itself when that is not a
// decimal literal.
func NumberOrLiteral(n json.Number) any {
	if v, ok := Number(string(n)); ok {
		return v
	}
	return n
}
