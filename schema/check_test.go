package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkDoc loads a workflow whose steps run tool (written beside it) and
// checks it.
func checkDoc(t *testing.T, wf string) ([]*Error, error) {
	t.Helper()
	dir := t.TempDir()
	tool := "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n" +
		"inputs: {f: File, fs: 'File[]', s: string, n: long, a: Any, o: string?, sf: {type: File, secondaryFiles: [.bai]}}\n" +
		"outputs: {out: {type: File, outputBinding: {glob: x}}}\n"
	head := "cwlVersion: v1.2\nclass: Workflow\nrequirements: {ScatterFeatureRequirement: {}, MultipleInputFeatureRequirement: {}, StepInputExpressionRequirement: {}, InlineJavascriptRequirement: {}}\n"
	for name, text := range map[string]string{"tool.cwl": tool, "wf.cwl": head + wf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Load(filepath.Join(dir, "wf.cwl"))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return Check(p)
}

// The type rules of links: what fits, what may fit (a warning) and what
// cannot (an error), after scatter, linkMerge, pickValue, when and
// valueFrom.
func TestCheckLinks(t *testing.T) {
	// in is the step's in field; the other inputs of tool get defaults.
	step := func(in, extra string) string {
		return "steps:\n  t:\n    run: tool.cwl\n" + extra +
			"    in: {" + in + "}\n    out: [out]\n"
	}
	defaults := "fs: {default: []}, n: {default: 1}, a: {default: 1}, sf: {default: {class: File, location: tool.cwl}}"
	for _, c := range []struct {
		name, doc string
		err       string // a substring of the error; "" for none
		warnings  int
	}{
		{"same types", "inputs: {x: File, y: string}\noutputs: {r: {type: File, outputSource: t/out}}\n" + step("f: x, s: y, "+defaults, ""), "", 0},
		{"File into string", "inputs: {x: File}\noutputs: []\n" + step("f: x, s: x, "+defaults, ""), `source "x" of type File cannot flow into "s" of type string`, 0},
		{"int into long, as other runners refuse it", "inputs: {x: File, y: string, i: int}\noutputs: []\n" + step("f: x, s: y, fs: {default: []}, n: i, a: {default: 1}, sf: x", ""), `source "i" of type int cannot flow into "n" of type long`, 0},
		{"anything into Any", "inputs: {x: File, y: string}\noutputs: []\n" + step("f: x, s: y, fs: {default: []}, n: {default: 1}, a: x, sf: {default: {class: File, location: tool.cwl}}", ""), "", 0},
		{"valueFrom makes anything", "inputs: {x: File}\noutputs: []\n" + step("f: x, s: {source: x, valueFrom: $(self.basename)}, "+defaults, ""), "", 0},
		{"scatter unwraps a list", "inputs: {xs: 'File[]', y: string}\noutputs: {r: {type: 'File[]', outputSource: t/out}}\n" + step("f: xs, s: y, "+defaults, "    scatter: f\n"), "", 0},
		{"a scattered step's output is a list", "inputs: {xs: 'File[]', y: string}\noutputs: {r: {type: File, outputSource: t/out}}\n" + step("f: xs, s: y, "+defaults, "    scatter: f\n"), `source "t/out" of type File[] cannot flow into "r" of type File`, 0},
		{"nested_crossproduct nests once per input", "inputs: {xs: 'File[]', ys: 'string[]'}\noutputs: {r: {type: {type: array, items: {type: array, items: File}}, outputSource: t/out}}\n" + step("f: xs, s: ys, "+defaults, "    scatter: [f, s]\n    scatterMethod: nested_crossproduct\n"), "", 0},
		{"merge_nested of two sources", "inputs: {x: File, y: File, z: string}\noutputs: []\n" + step("f: x, fs: [x, y], s: z, n: {default: 1}, a: {default: 1}, sf: {default: {class: File, location: tool.cwl}}", ""), "", 0},
		{"merge_nested into a single File", "inputs: {x: File, y: File, z: string}\noutputs: []\n" + step("f: [x, y], s: z, "+defaults, ""), `merged by merge_nested into File[], cannot flow into "f" of type File`, 0},
		{"merge_flattened of a list and an item", "inputs: {x: File, xs: 'File[]', z: string}\noutputs: []\n" + step("f: x, fs: {source: [xs, x], linkMerge: merge_flattened}, s: z, n: {default: 1}, a: {default: 1}, sf: {default: {class: File, location: tool.cwl}}", ""), "", 0},
		{"first_non_null picks one source whole", "inputs: {x: File?, y: File, z: string}\noutputs: []\n" + step("f: {source: [x, y], pickValue: first_non_null}, s: z, "+defaults, ""), "", 1},
		{"optional into required is a warning", "inputs: {x: File, y: string?}\noutputs: []\n" + step("f: x, s: y, "+defaults, ""), "", 1},
		{"a conditional step's output may be null", "inputs: {x: File, y: string}\noutputs: {r: {type: File, outputSource: t/out}}\n" + step("f: x, s: y, "+defaults, "    when: $(inputs.s == 'go')\n"), "", 1},
		{"a missing secondary file is a warning", "inputs: {x: File, y: string}\noutputs: []\n" + step("f: x, s: y, fs: {default: []}, n: {default: 1}, a: {default: 1}, sf: x", ""), "", 1},
		{"required input left out", "inputs: {x: File}\noutputs: []\n" + step("f: x, "+defaults, ""), `leaves the required input "s" of its process unset`, 0},
		{"optional input left out", "inputs: {x: File, y: string}\noutputs: []\n" + step("f: x, s: y, "+defaults, ""), "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			warnings, err := checkDoc(t, c.doc)
			switch {
			case c.err == "" && err != nil:
				t.Errorf("error: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("error %v, want one saying %q", err, c.err)
			}
			if len(warnings) != c.warnings {
				t.Errorf("%d warnings, want %d: %v", len(warnings), c.warnings, warnings)
			}
		})
	}
}
