package conformance

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleTests() []Test {
	return []Test{
		{Number: 1, ID: "a", Tags: []string{"required", "command_line_tool"}},
		{Number: 2, ID: "b", Tags: []string{"docker", "command_line_tool"}},
		{Number: 3, ID: "c", Tags: []string{"workflow"}},
		{Number: 4, ID: "d", Tags: []string{"networkaccess", "workflow"}},
		{Number: 5, ID: "e"},
	}
}

// planView renders a plan as "id" or "id(skip reason)" for easy comparison.
func planView(plan []Planned) []string {
	var out []string
	for _, p := range plan {
		s := p.Test.ID
		if p.Skip != "" {
			s += "(" + p.Skip + ")"
		}
		out = append(out, s)
	}
	return out
}

func TestSelect(t *testing.T) {
	cases := []struct {
		name string
		sel  Selection
		want []string
	}{
		{"everything", Selection{}, []string{"a", "b", "c", "d", "e"}},
		{"tags", Selection{Tags: []string{"workflow", "docker"}}, []string{"b", "c", "d"}},
		{"exclude tags are skipped, not dropped", Selection{ExcludeTags: []string{"docker", "networkaccess"}},
			[]string{"a", "b(excluded by tag docker)", "c", "d(excluded by tag networkaccess)", "e"}},
		{"ids", Selection{IDs: []string{"e", "b"}}, []string{"b", "e"}},
		{"numbers", Selection{Numbers: []int{1, 3}}, []string{"a", "c"}},
		{"ids and numbers add up", Selection{IDs: []string{"e"}, Numbers: []int{2}}, []string{"b", "e"}},
		{"exclude ids", Selection{ExcludeIDs: []string{"a", "c"}}, []string{"b", "d", "e"}},
		{"exclude numbers", Selection{Numbers: []int{1, 2, 3}, ExcludeNums: []int{2}}, []string{"a", "c"}},
		{"tags and ids both apply", Selection{Tags: []string{"workflow"}, IDs: []string{"a", "c"}}, []string{"c"}},
		{"tags then exclude tags", Selection{Tags: []string{"workflow"}, ExcludeTags: []string{"networkaccess"}},
			[]string{"c", "d(excluded by tag networkaccess)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, err := Select(sampleTests(), c.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := planView(plan); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestSelectRejectsUnknownTests(t *testing.T) {
	for _, sel := range []Selection{
		{IDs: []string{"zz"}}, {ExcludeIDs: []string{"zz"}}, {Numbers: []int{6}}, {ExcludeNums: []int{0}},
	} {
		if _, err := Select(sampleTests(), sel); err == nil {
			t.Errorf("Select(%+v) accepted a selector naming no test", sel)
		}
	}
}

func TestParseRanges(t *testing.T) {
	got, err := ParseRanges("1-3, 5,9-9")
	if want := []int{1, 2, 3, 5, 9}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	if got, err := ParseRanges(""); err != nil || got != nil {
		t.Fatalf("empty list gave %v, %v", got, err)
	}
	for _, bad := range []string{"0", "3-1", "a", "1-x", "-2", "1-2000000"} {
		if _, err := ParseRanges(bad); err == nil {
			t.Errorf("ParseRanges(%q) succeeded", bad)
		}
	}
}

func TestParseArgs(t *testing.T) {
	opts, err := parseArgs([]string{
		"--runner", "/bin/flow run", "-j", "3", "idx.yaml", "--runner-arg", "--x", "--runner-arg=--y",
		"-n5-7", "-N6", "-sa,b", "--exclude-tags=docker,networkaccess", "--timeout", "2s", "--junit", "r.xml",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if opts.testFile != "idx.yaml" || opts.runner != "/bin/flow run" || opts.jobs != 3 || opts.timeout != 2*time.Second || opts.junit != "r.xml" {
		t.Errorf("options %+v", opts)
	}
	if !reflect.DeepEqual(opts.runnerArgs, []string{"--x", "--y"}) {
		t.Errorf("runner args %v", opts.runnerArgs)
	}
	wantSel := Selection{ExcludeTags: []string{"docker", "networkaccess"}, IDs: []string{"a", "b"}, Numbers: []int{5, 6, 7}, ExcludeNums: []int{6}}
	if !reflect.DeepEqual(opts.sel, wantSel) {
		t.Errorf("selection %+v, want %+v", opts.sel, wantSel)
	}
	if opts.minPass != -1 {
		t.Errorf("min-pass defaulted to %d, want -1 (unset)", opts.minPass)
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{},                        // no test file
		{"a.yaml", "b.yaml"},      // two test files
		{"-n", "x", "a.yaml"},     // bad range
		{"--min-pass", "-3", "a"}, // negative threshold
		{"--runner", " ", "a"},    // empty runner
		{"--bogus", "a"},          // unknown flag
	} {
		if _, err := parseArgs(args, io.Discard); err == nil {
			t.Errorf("parseArgs(%q) succeeded", args)
		}
	}
}

func TestReadBaseline(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"good":  "# passes on main, raise when it grows\n  212  # as of today\n",
		"two":   "12 13\n",
		"words": "# nothing\nmany\n",
		"empty": "# only a comment\n",
	})
	if n, err := ReadBaseline(dir + "/good"); err != nil || n != 212 {
		t.Fatalf("got %d, %v; want 212", n, err)
	}
	for _, name := range []string{"two", "words", "empty", "missing"} {
		if _, err := ReadBaseline(dir + "/" + name); err == nil {
			t.Errorf("baseline %q was accepted", name)
		}
	}
}

func TestSummaryTable(t *testing.T) {
	tests := sampleTests()
	results := []Result{
		{Test: tests[0], Status: Passed},
		{Test: tests[1], Status: Skipped},
		{Test: tests[2], Status: Failed},
		{Test: tests[3], Status: Unsupported},
		{Test: tests[4], Status: Passed},
	}
	s := Summarize(results)
	if got, want := s.ClosingLine(), "2 passed, 1 failed, 2 skipped"; got != want {
		t.Errorf("closing line %q, want %q", got, want)
	}
	var b strings.Builder
	s.WriteTable(&b)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var rows []string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	want := []string{
		"command_line_tool 1 0 0 1 2",
		"docker 0 0 0 1 1",
		"networkaccess 0 0 1 0 1",
		"required 1 0 0 0 1",
		"workflow 0 1 1 0 2",
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("table rows\n%v\nwant\n%v", rows, want)
	}
}
