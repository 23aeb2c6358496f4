package cwltest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/testenv"
)

// A report as cwltest 2.7 writes it (junit_xml): the tags in "class", the
// id in "file", failures with the message in the text, unsupported tests
// as skipped.
const sample = `<?xml version="1.0" ?>
<testsuites disabled="0" errors="0" failures="2" tests="4" time="1.5">
	<testsuite disabled="0" errors="0" failures="2" name="conformance_tests" skipped="1" tests="4" time="1.5">
		<testcase name="Passes" time="0.1" class="command_line_tool, required" file="ok_test" url="cwltest:conformance_tests#1">
			<system-out>{}</system-out>
		</testcase>
		<testcase name="Differs" time="0.1" class="command_line_tool" file="bad_test" url="cwltest:conformance_tests#2">
			<failure type="failure">expected: {
    "a": 1
}
got: {}
caused by: failed comparison for key 'a': expected: 1
got: null</failure>
		</testcase>
		<testcase name="Needs docker" time="0.1" class="docker" file="docker_test" url="cwltest:conformance_tests#3">
			<skipped type="skipped" message="Unsupported"/>
		</testcase>
		<testcase name="Errors" time="0.1" class="required" file="error_test" url="cwltest:conformance_tests#4">
			<error type="error" message="boom"/>
			<system-err>flow: something broke</system-err>
		</testcase>
	</testsuite>
</testsuites>
`

func TestReadJUnit(t *testing.T) {
	cases, err := ReadJUnit(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		n      int
		id     string
		tags   []string
		status Status
	}{
		{1, "ok_test", []string{"command_line_tool", "required"}, Passed},
		{2, "bad_test", []string{"command_line_tool"}, Failed},
		{3, "docker_test", []string{"docker"}, Unsupported},
		{4, "error_test", []string{"required"}, Failed},
	}
	if len(cases) != len(want) {
		t.Fatalf("got %d cases, want %d", len(cases), len(want))
	}
	for i, w := range want {
		c := cases[i]
		if c.Number != w.n || c.ID != w.id || !slices.Equal(c.Tags, w.tags) || c.Status != w.status {
			t.Errorf("case %d: got %d %s %v %s, want %d %s %v %s", i, c.Number, c.ID, c.Tags, c.Status, w.n, w.id, w.tags, w.status)
		}
	}
	if !strings.Contains(cases[1].Message, "failed comparison for key 'a'") || cases[3].Message != "boom" || cases[3].Stderr != "flow: something broke" {
		t.Errorf("messages: %q, %q, stderr %q", cases[1].Message, cases[3].Message, cases[3].Stderr)
	}

	s := Summarize(cases)
	if s.Counts != (Counts{Passed: 1, Failed: 2, Unsupported: 1}) {
		t.Errorf("totals %+v", s.Counts)
	}
	if *s.ByTag["required"] != (Counts{Passed: 1, Failed: 1}) || *s.ByTag["docker"] != (Counts{Unsupported: 1}) {
		t.Errorf("by tag: required %+v, docker %+v", *s.ByTag["required"], *s.ByTag["docker"])
	}
	var b bytes.Buffer
	s.WriteTable(&b)
	if !strings.Contains(b.String(), "| `command_line_tool` | 1 | 1 | 0 | 2 |\n") {
		t.Errorf("table:\n%s", b.String())
	}
	if s.Line() != "1 passed, 2 failed, 1 unsupported (of 4)" {
		t.Errorf("line %q", s.Line())
	}
}

// A report cwltest never finished, or one without tests, is an error, not
// a clean run of nothing.
func TestReadJUnitRejectsEmptyReports(t *testing.T) {
	for _, doc := range []string{"", "<testsuites><testsuite name=\"x\"></testsuite></testsuites>", "<testsuites><testsuite"} {
		if _, err := ReadJUnit(strings.NewReader(doc)); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
}

func TestReadBaseline(t *testing.T) {
	dir := t.TempDir()
	for text, want := range map[string]int{"305\n": 305, "# the fewest\n 12 # passing\n": 12} {
		p := filepath.Join(dir, "b")
		os.WriteFile(p, []byte(text), 0o644)
		if n, err := ReadBaseline(p); err != nil || n != want {
			t.Errorf("%q: %d, %v", text, n, err)
		}
	}
	for _, text := range []string{"", "1 2", "-3", "many"} {
		p := filepath.Join(dir, "b")
		os.WriteFile(p, []byte(text), 0o644)
		if _, err := ReadBaseline(p); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
}

// The real cwltest, on a suite of three tests and a stand-in runner, writes
// a report that reads as cwltest judged: one pass, one wrong output, one
// unsupported feature.
func TestRealCwltestReport(t *testing.T) {
	source := os.Getenv("CWLTEST")
	if source == "" {
		source = "../../../shared/cwltest"
	}
	if err := Available(source, ""); err != nil {
		testenv.SkipOrFail(t, err.Error())
	}
	suite := t.TempDir()
	files := map[string]string{
		"conformance_tests.yaml": `- id: passes
  doc: the runner prints the expected object
  tool: echo.cwl
  output: {out: hi}
  tags: [required, command_line_tool]
- id: differs
  doc: the runner prints another object
  tool: echo.cwl
  job: job.json
  output: {out: bye}
  tags: [command_line_tool]
- id: unsupported
  doc: the runner exits 33
  tool: docker.cwl
  output: {}
  tags: [docker]
`,
		"echo.cwl":   "cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\nbaseCommand: 'true'\n",
		"docker.cwl": "cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\nbaseCommand: 'true'\n",
		"job.json":   "{}\n",
		// Called as: runner run --outdir=DIR --quiet PROCESS [JOB].
		"runner": "#!/bin/sh\n[ \"$1\" = run ] || exit 2\ncase \"$4\" in *docker.cwl) exit 33;; esac\necho '{\"out\": \"hi\"}'\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(suite, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	report := filepath.Join(t.TempDir(), "report.xml")
	cmd := Command(ctx, Options{Source: source, Suite: suite, Tool: filepath.Join(suite, "runner"), Args: []string{"run"},
		Jobs: 2, Timeout: 60, JUnit: report, TempDir: t.TempDir()})
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cwltest: %v\n%s", err, out)
	}
	cases, err := ReadJUnitFile(report)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, c := range cases {
		got[c.ID] = c.Status
	}
	want := map[string]Status{"passes": Passed, "differs": Failed, "unsupported": Unsupported}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for id, s := range want {
		if got[id] != s {
			t.Errorf("%s: %s, want %s", id, got[id], s)
		}
	}
	if s := Summarize(cases); *s.ByTag["command_line_tool"] != (Counts{Passed: 1, Failed: 1}) {
		t.Errorf("command_line_tool: %+v", *s.ByTag["command_line_tool"])
	}
}
