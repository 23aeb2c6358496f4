package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The numbers a CWL value must carry exactly from the job file or document
// to the output object: each is an input of the tools below, and the
// output of the same name must print exactly this JSON.
var exactNumbers = []struct {
	id, typ, value string
}{
	{"d_int_literal", "double", "4200000000000000000000000000000000000000000"}, // a double written as an integer: not 4.2e+42
	{"d_negative", "double", "-1000000000000000000000000000000000000000000"},
	{"d_beyond_2_53", "double", "9007199254740993"},      // an int made a double: not rounded to ...992
	{"d_beyond_int64", "double", "18446744073709551615"}, // YAML calls it an int, but not an int64
	{"d_digits", "double", "0.10000000000000000000001"},  // more digits than a float64 keeps
	{"d_plain", "double", "4.2"},
	{"l_beyond_2_53", "long", "9007199254740993"},
	{"f_plain", "float", "0.1"},
	{"ds", "double[]", "[4200000000000000000000000000000000000000000,-1000000000000000000000000000000000000000000]"},
	{"rec", "record", `{"big":4200000000000000000000000000000000000000000,"long":4242424242424242424}`},
}

// inputType is the CWL type of an exactNumbers entry.
func inputType(typ string) string {
	if typ == "record" {
		return "{type: record, fields: {big: double, long: long}}"
	}
	return `"` + typ + `"` // double[] inside a flow mapping must be quoted

}

// numbersTool writes a CommandLineTool whose outputs are its inputs,
// through outputEval parameter references (no JavaScript), with the
// values as defaults when withDefaults is set.
func numbersTool(t *testing.T, dir string, withDefaults bool) string {
	var b strings.Builder
	b.WriteString("cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: \"true\"\ninputs:\n")
	for _, n := range exactNumbers {
		if withDefaults {
			b.WriteString("  " + n.id + ": {type: " + inputType(n.typ) + ", default: " + n.value + "}\n")
		} else {
			b.WriteString("  " + n.id + ": " + inputType(n.typ) + "\n")
		}
	}
	b.WriteString("outputs:\n")
	for _, n := range exactNumbers {
		b.WriteString("  " + n.id + ": {type: " + inputType(n.typ) + ", outputBinding: {outputEval: $(inputs." + n.id + ")}}\n")
	}
	p := filepath.Join(dir, "numbers.cwl")
	if withDefaults {
		p = filepath.Join(dir, "numbers-defaults.cwl")
	}
	writeFile(t, p, b.String())
	return p
}

// outputTool writes a CommandLineTool that echoes its inputs, as JSON,
// into cwl.output.json (through a parameter reference in its arguments),
// and counts its runs in the file its input counter names.
func outputTool(t *testing.T, dir string) string {
	var b strings.Builder
	b.WriteString("cwlVersion: v1.2\nclass: CommandLineTool\n")
	b.WriteString("baseCommand: [sh, -c, 'echo ran >> \"$0\"; printf \"%s\" \"$1\" > cwl.output.json']\n")
	b.WriteString("arguments: [$(inputs.counter), '{")
	for i, n := range exactNumbers {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + n.id + `": $(inputs.` + n.id + `)`)
	}
	b.WriteString("}']\ninputs:\n  counter: string\n")
	for _, n := range exactNumbers {
		b.WriteString("  " + n.id + ": " + inputType(n.typ) + "\n")
	}
	b.WriteString("outputs:\n")
	for _, n := range exactNumbers {
		b.WriteString("  " + n.id + ": " + inputType(n.typ) + "\n")
	}
	p := filepath.Join(dir, "output-json.cwl")
	writeFile(t, p, b.String())
	return p
}

// jobText is the job file of exactNumbers, in YAML or JSON.
func jobText(asJSON bool) string {
	var b strings.Builder
	if asJSON {
		b.WriteString("{")
		for i, n := range exactNumbers {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(`"` + n.id + `": ` + n.value)
		}
		b.WriteString("}\n")
		return b.String()
	}
	for _, n := range exactNumbers {
		b.WriteString(n.id + ": " + n.value + "\n")
	}
	return b.String()
}

// checkExact fails for each output whose JSON is not exactly its input's.
func checkExact(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.UseNumber() // the printed literals, not what float64 makes of them
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
	}
	for _, n := range exactNumbers {
		var got bytes.Buffer
		enc := json.NewEncoder(&got)
		if err := enc.Encode(out[n.id]); err != nil {
			t.Fatal(err)
		}
		if g := strings.TrimSpace(got.String()); g != n.value {
			t.Errorf("%s (%s): printed %s, want %s", n.id, n.typ, g, n.value)
		}
	}
}

func TestNumbersRoundTripExactly(t *testing.T) {
	dir := t.TempDir()
	tool := numbersTool(t, dir, false)
	for _, asJSON := range []bool{false, true} {
		name := map[bool]string{false: "job.yml", true: "job.json"}[asJSON]
		t.Run(name, func(t *testing.T) {
			job := filepath.Join(dir, name)
			writeFile(t, job, jobText(asJSON))
			checkExact(t, flow(t, "run", "--quiet", "--no-provenance", "--outdir", t.TempDir(), tool, job))
		})
	}
	t.Run("defaults", func(t *testing.T) {
		checkExact(t, flow(t, "run", "--quiet", "--no-provenance", "--outdir", t.TempDir(), numbersTool(t, dir, true)))
	})
	t.Run("cwl.output.json", func(t *testing.T) {
		job := filepath.Join(dir, "job.json")
		writeFile(t, job, jobText(true))
		checkExact(t, flow(t, "run", "--quiet", "--no-provenance", "--outdir", t.TempDir(), outputTool(t, dir), job, "--counter", filepath.Join(dir, "counter")))
	})
}

// A step reused from the cache gives the same exact numbers: its outputs
// are stored and read back without passing through a float64, and its
// cache key is the same on the second run.
func TestNumbersExactFromTheCache(t *testing.T) {
	dir := t.TempDir()
	tool, job, counter := outputTool(t, dir), filepath.Join(dir, "job.yml"), filepath.Join(dir, "counter")
	writeFile(t, job, jobText(false))
	db := filepath.Join(dir, "flow.db")
	for range 2 {
		checkExact(t, flow(t, "run", "--quiet", "--db", db, "--outdir", t.TempDir(), tool, job, "--counter", counter))
	}
	if data, _ := os.ReadFile(counter); strings.Count(string(data), "ran") != 1 {
		t.Errorf("the tool ran %d times, want once (the second run reuses it)", strings.Count(string(data), "ran"))
	}
}

// A number given as a flag is exact too, and types are still checked: a
// long beyond int64 is not a long, text is not a double.
func TestNumberFlagsAndTypes(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "one.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
baseCommand: "true"
inputs:
  d: double
  l: {type: long, default: 1}
outputs:
  d: {type: double, outputBinding: {outputEval: $(inputs.d)}}
  l: {type: long, outputBinding: {outputEval: $(inputs.l)}}
`)
	r := flow(t, "run", "--quiet", "--no-provenance", "--outdir", t.TempDir(), tool, "--d", "4200000000000000000000000000000000000000000")
	if r.code != 0 || !strings.Contains(r.stdout, `"d": 4200000000000000000000000000000000000000000,`) {
		t.Errorf("--d: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range []struct{ job, want string }{
		{"d: 1\nl: 9223372036854775808\n", `input "l" of CommandLineTool one.cwl expects long, got the number 9223372036854775808`},
		{"d: 1\nl: 4200000000000000000000000000000000000000000\n", `expects long, got the number 4200000000000000000000000000000000000000000`},
		{"d: '4.2'\n", `input "d" of CommandLineTool one.cwl expects double, got the text "4.2"`},
	} {
		job := filepath.Join(dir, "job.yml")
		writeFile(t, job, c.job)
		r := flow(t, "run", "--quiet", "--no-provenance", "--outdir", t.TempDir(), tool, job)
		if lines := stderrLines(r.stderr); r.code == 0 || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant one line with %s", c.job, r.code, r.stderr, c.want)
		}
	}
}

// Expressions still get numbers (JavaScript's doubles): arithmetic works
// on an exact literal, and typeof says "number".
func TestExpressionsGetNumbers(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "expr.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: ExpressionTool
requirements: {InlineJavascriptRequirement: {}}
inputs:
  d: {type: double, default: 4200000000000000000000000000000000000000000}
  l: {type: long, default: 9007199254740993}
expression: '$({"half": inputs.d / 2, "kind": typeof inputs.d, "next": inputs.l + 1 > 9007199254740990})'
outputs:
  half: double
  kind: string
  next: boolean
`)
	r := flow(t, "run", "--quiet", "--no-provenance", "--outdir", t.TempDir(), tool)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{`"half": 2.1e+42`, `"kind": "number"`, `"next": true`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %s:\n%s", want, r.stdout)
		}
	}
}
