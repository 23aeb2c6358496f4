package conformance

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeFiles creates files under dir from a name → content map.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadImportsAndPaths(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"index.yaml": `
- id: first
  tool: tools/a.cwl
  job: jobs/a.json
  doc: "  the first test  "
  output: {n: 1, f: 1.5, list: [a, null]}
  tags: [required, command_line_tool]
- $import: sub/more.yaml
- id: https://example.com/suite#last
  tool: /abs/tool.cwl#main
  should_fail: true
  tags: []
`,
		"sub/more.yaml": `
- id: second
  tool: ../tools/b.cwl#wf
  job: b.json
- $import: deeper/most.yaml
`,
		"sub/deeper/most.yaml": `
- label: third
  tool: file:///abs/c.cwl
  tags: [workflow]
`,
	})
	tests, err := Load(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Number         int
		ID, Tool, Job  string
		Fail, Required bool
	}
	var got []view
	for _, tc := range tests {
		got = append(got, view{tc.Number, tc.ID, tc.Tool, tc.Job, tc.ShouldFail, tc.Required()})
	}
	want := []view{
		{1, "first", filepath.Join(dir, "tools/a.cwl"), filepath.Join(dir, "jobs/a.json"), false, true},
		{2, "second", filepath.Join(dir, "tools/b.cwl") + "#wf", filepath.Join(dir, "sub/b.json"), false, true},
		{3, "third", "/abs/c.cwl", "", false, false},
		{4, "last", "/abs/tool.cwl#main", "", true, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	first := tests[0]
	if first.Doc != "the first test" {
		t.Errorf("doc %q was not trimmed", first.Doc)
	}
	wantOut := map[string]any{"n": int64(1), "f": 1.5, "list": []any{"a", nil}}
	if !reflect.DeepEqual(first.Output, wantOut) {
		t.Errorf("output %#v, want %#v", first.Output, wantOut)
	}
	if !strings.HasSuffix(tests[1].Source, filepath.Join("sub", "more.yaml")+":2") {
		t.Errorf("source %q does not point into the imported file", tests[1].Source)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string // a fragment the error must contain
	}{
		{"not a list", map[string]string{"index.yaml": "tool: x"}, "index.yaml:1:1: the test file must hold a list"},
		{"empty", map[string]string{"index.yaml": ""}, "is empty"},
		{"no tool", map[string]string{"index.yaml": "- id: a\n- id: b\n  doc: x\n"}, "index.yaml:1:3: the test has no tool field"},
		{"duplicate id", map[string]string{"index.yaml": "- {id: a, tool: x}\n- {id: a, tool: y}\n"}, `index.yaml:2: the id "a" is already used at`},
		{"import cycle", map[string]string{"index.yaml": "- $import: b.yaml\n", "b.yaml": "- $import: index.yaml\n"}, "imports itself"},
		{"import with fields", map[string]string{"index.yaml": "- {$import: b.yaml, id: x}\n"}, "must have no other fields"},
		{"missing import", map[string]string{"index.yaml": "- $import: nope.yaml\n"}, "cannot read the test file"},
		{"bad yaml", map[string]string{"index.yaml": "- [unclosed\n"}, "not valid YAML"},
		{"bad field type", map[string]string{"index.yaml": "- {tool: x, tags: {a: b}}\n"}, "index.yaml:1:3: the test entry is malformed"},
		{"remote tool", map[string]string{"index.yaml": "- {tool: 'http://x/y.cwl'}\n"}, "not a local file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, c.files)
			_, err := Load(filepath.Join(dir, "index.yaml"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestLoadNamesUnnamedTests(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.yaml": "- {tool: a}\n- {id: 7, tool: b}\n"})
	tests, err := Load(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if tests[0].ID != "test1" || tests[1].ID != "7" {
		t.Fatalf("ids %q and %q, want test1 and 7", tests[0].ID, tests[1].ID)
	}
}

// TestLoadOfficialSuite loads the real CWL v1.2 index and checks that every
// tool and job it names exists, which exercises path resolution at scale.
func TestLoadOfficialSuite(t *testing.T) {
	const suite = "/work/shared/cwl-v1.2/conformance_tests.yaml"
	if _, err := os.Stat(suite); err != nil {
		t.Skip("the CWL v1.2 suite is not available here")
	}
	tests, err := Load(suite)
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) < 300 {
		t.Fatalf("loaded %d tests, expected the whole suite (over 300)", len(tests))
	}
	for _, tc := range tests {
		tool, _, _ := strings.Cut(tc.Tool, "#")
		for _, p := range []string{tool, tc.Job} {
			if p == "" {
				continue
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s (%s): %v", tc.ID, tc.Source, err)
			}
		}
	}
}
