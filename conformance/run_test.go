package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeRunner is a stand-in CWL runner. It finds --outdir and the tool among
// its arguments, records its working directory and arguments next to the
// tool (whole: tests that share a tool run at once, so the record is
// renamed into place), and then sources the tool, a shell snippet that plays the runner's
// part: it prints some JSON and exits with some code.
const fakeRunner = `#!/bin/sh
outdir= tool= job=
for a in "$@"; do
  case "$a" in
    --outdir=*) outdir="${a#--outdir=}" ;;
    --*) ;;
    *) if [ -z "$tool" ]; then tool="$a"; else job="$a"; fi ;;
  esac
done
file="${tool%%#*}"
{ pwd; printf '%s\n' "$@"; } > "$file.args.$$" && mv -f "$file.args.$$" "$file.args"
OUTDIR="$outdir"
JOB="$job"
. "$file"
`

// suite writes the fake runner, tool snippets and an index into a temp dir
// and returns the index path and the runner path.
func suite(t *testing.T, index string, tools map[string]string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"index.yaml": index, "runner.sh": fakeRunner}
	for name, body := range tools {
		files["tools/"+name] = body
	}
	writeFiles(t, dir, files)
	runner := filepath.Join(dir, "runner.sh")
	if err := os.Chmod(runner, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "index.yaml"), runner
}

const e2eIndex = `
- id: pass
  tool: tools/answer.sh
  job: jobs/answer.json
  output: {answer: 42}
  tags: [required, command_line_tool]
- id: pass_file
  tool: tools/file.sh
  output:
    out:
      class: File
      location: out.txt
      checksum: sha1$f572d396fae9206628714fb2ce00f72e94f2258f
      size: 6
      contents: "hello\n"
  tags: [command_line_tool]
- id: wrong_value
  tool: tools/answer.sh#main
  output: {answer: 41}
  tags: [command_line_tool]
- id: should_fail_ok
  tool: tools/exit1.sh
  should_fail: true
  tags: [required]
- id: should_fail_but_succeeded
  tool: tools/answer.sh
  should_fail: true
  tags: [required]
- id: unsupported_required
  tool: tools/exit33.sh
  output: {}
  tags: [required, inline_javascript]
- id: unsupported_optional
  tool: tools/exit33.sh
  output: {}
  tags: [inline_javascript]
- id: unsupported_untagged
  tool: tools/exit33.sh
  output: {}
- id: unsupported_should_fail
  tool: tools/exit33.sh
  should_fail: true
  tags: [inline_javascript]
- id: crashed
  tool: tools/crash.sh
  output: {}
  tags: [workflow]
- id: not_json
  tool: tools/garbage.sh
  output: {}
  tags: [workflow]
- id: in_docker
  tool: tools/answer.sh
  output: {answer: 42}
  tags: [docker]
`

var e2eTools = map[string]string{
	"answer.sh":  `echo '{"answer": 42}'`,
	"file.sh":    `printf 'hello\n' > "$OUTDIR/out.txt"; printf '{"out": {"class": "File", "location": "file://%s/out.txt", "size": 6}}' "$OUTDIR"`,
	"exit1.sh":   `echo "boom" >&2; exit 1`,
	"exit33.sh":  `echo "feature X is not supported" >&2; exit 33`,
	"crash.sh":   `echo '{}'; echo "first line" >&2; echo "the real error" >&2; exit 2`,
	"garbage.sh": `echo 'this is not json'`,
}

func TestEndToEnd(t *testing.T) {
	index, runner := suite(t, e2eIndex, e2eTools)
	dir := filepath.Dir(index)
	var stdout, stderr bytes.Buffer
	args := []string{"--runner", runner + " --fake-mode", "--runner-arg", "--fake-extra", "-j", "4",
		"--exclude-tags", "docker", "--json", filepath.Join(dir, "r.json"), "--junit", filepath.Join(dir, "r.xml"), index}
	code := Main(context.Background(), args, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit status %d, want 1 because tests failed\n%s%s", code, stdout.String(), stderr.String())
	}
	want := map[string]Status{
		"pass": Passed, "pass_file": Passed, "wrong_value": Failed, "should_fail_ok": Passed,
		"should_fail_but_succeeded": Failed, "unsupported_required": Failed, "unsupported_optional": Unsupported,
		"unsupported_untagged": Failed, "unsupported_should_fail": Unsupported, "crashed": Failed,
		"not_json": Failed, "in_docker": Skipped,
	}
	got := readJSONResults(t, filepath.Join(dir, "r.json"))
	for id, status := range want {
		if got[id].Status != status {
			t.Errorf("%s: status %s (%s), want %s", id, got[id].Status, got[id].Message, status)
		}
	}
	out := stdout.String()
	for _, fragment := range []string{
		"FAIL wrong_value: output mismatch at $.answer: expected 41, got 42\n",
		"FAIL should_fail_but_succeeded: the runner succeeded but the test expects it to fail\n",
		"FAIL unsupported_required: the runner does not support a feature this required test needs (exit 33): feature X is not supported\n",
		"FAIL crashed: the runner exited with code 2: the real error\n",
		"FAIL not_json: the runner's stdout is not valid JSON",
	} {
		if !strings.Contains(out, fragment) {
			t.Errorf("stdout lacks %q:\n%s", fragment, out)
		}
	}
	if strings.Contains(out, "FAIL pass") || strings.Contains(out, "FAIL unsupported_optional") {
		t.Errorf("stdout reports a passing or unsupported test as failed:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "3 passed, 6 failed, 3 skipped" {
		t.Errorf("closing line %q, want %q", last, "3 passed, 6 failed, 3 skipped")
	}
	checkJUnit(t, filepath.Join(dir, "r.xml"), 12, 6, 3)
	checkInvocation(t, dir)
}

func readJSONResults(t *testing.T, path string) map[string]jsonResult {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var list []jsonResult
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	byID := map[string]jsonResult{}
	for _, r := range list {
		byID[r.ID] = r
	}
	return byID
}

func checkJUnit(t *testing.T, path string, tests, failures, skipped int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the JUnit file is not valid XML: %v", err)
	}
	s := doc.Suites[0]
	if s.Name != "index" || s.Tests != tests || s.Failures != failures || s.Skipped != skipped || len(s.Cases) != tests {
		t.Errorf("JUnit suite %s: %d tests, %d failures, %d skipped, %d cases", s.Name, s.Tests, s.Failures, s.Skipped, len(s.Cases))
	}
}

// checkInvocation reads what the fake runner recorded for the "pass" test
// and checks the command line cwltest would have built, the fresh working
// directory, and that both temp directories are gone afterwards.
func checkInvocation(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "tools/answer.sh.args"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(got) < 2 {
		t.Fatalf("the runner recorded too little: %q", got)
	}
	cwd, args := got[0], got[1:]
	outdir := strings.TrimPrefix(args[2], "--outdir=")
	if !strings.HasPrefix(filepath.Base(cwd), "conformance-cwd-") || !strings.HasPrefix(filepath.Base(outdir), "conformance-out-") {
		t.Errorf("runner ran in %s with outdir %s, want fresh temp dirs", cwd, outdir)
	}
	for _, d := range []string{cwd, outdir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("temp dir %s was not removed (%v)", d, err)
		}
	}
	// answer.sh serves three tests; the args file holds whichever ran last,
	// so accept any of their tool and job spellings.
	tool := filepath.Join(dir, "tools/answer.sh")
	prefix := []string{"--fake-mode", "--fake-extra", args[2], "--quiet"}
	if strings.Join(args[:4], " ") != strings.Join(prefix, " ") {
		t.Errorf("runner args start %q, want %q", args[:4], prefix)
	}
	rest := strings.Join(args[4:], " ")
	if rest != tool && rest != tool+"#main" && rest != tool+" "+filepath.Join(dir, "jobs/answer.json") {
		t.Errorf("runner got tool and job %q", rest)
	}
}

// TestRunKeepsFragmentAndJob runs single tests to check the exact argument
// list, which the shared tool in TestEndToEnd can only check loosely.
func TestRunKeepsFragmentAndJob(t *testing.T) {
	index, runner := suite(t, "- {id: x, tool: tools/t.sh#main, job: j.json, output: {}}\n", map[string]string{"t.sh": "echo '{}'"})
	dir := filepath.Dir(index)
	tests, err := Load(index)
	if err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), Config{Runner: []string{runner}}, []Planned{{Test: tests[0]}})
	if res[0].Status != Passed {
		t.Fatalf("status %s: %s", res[0].Status, res[0].Message)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "tools/t.sh.args"))
	args := strings.Split(strings.TrimSpace(string(data)), "\n")[1:]
	want := []string{"--quiet", filepath.Join(dir, "tools/t.sh") + "#main", filepath.Join(dir, "j.json")}
	if len(args) != 4 || !strings.HasPrefix(args[0], "--outdir=/") || strings.Join(args[1:], " ") != strings.Join(want, " ") {
		t.Fatalf("runner args %q, want --outdir=... then %q", args, want)
	}
}

// TestTimeoutKillsProcessGroup gives a test a runner that starts a
// background child and hangs; the timeout must fail the test promptly and
// kill the child too, not just the runner.
func TestTimeoutKillsProcessGroup(t *testing.T) {
	index, runner := suite(t, "- {id: slow, tool: tools/slow.sh, output: {}}\n", map[string]string{
		"slow.sh": `sleep 300 & echo $! > "$(dirname "$file")/child.pid"; wait`,
	})
	tests, err := Load(index)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := Run(context.Background(), Config{Runner: []string{runner}, Timeout: 300 * time.Millisecond}, []Planned{{Test: tests[0]}})
	// The runner would hang for 300 s: ending well before shows the
	// timeout, however busy the machine.
	if elapsed := time.Since(start); elapsed > 60*time.Second {
		t.Errorf("the run took %s despite a 300ms timeout", elapsed)
	}
	if res[0].Status != Failed || !strings.Contains(res[0].Message, "timed out after 300ms") {
		t.Errorf("status %s, message %q; want a timeout failure", res[0].Status, res[0].Message)
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(index), "tools/child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the runner's child %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether pid is a live process; a zombie waiting for its
// reaper counts as dead.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func TestMinPassDecidesExitStatus(t *testing.T) {
	index, runner := suite(t, `
- {id: good, tool: tools/ok.sh, output: {}}
- {id: bad, tool: tools/ok.sh, output: {x: 1}}
`, map[string]string{"ok.sh": "echo '{}'"})
	baseline := filepath.Join(filepath.Dir(index), "baseline")
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{index}, 1},
		{[]string{"--min-pass", "1", index}, 0},
		{[]string{"--min-pass", "2", index}, 1},
		{[]string{"--baseline", baseline, index}, 0},
		{[]string{"-s", "good", index}, 0},
		{[]string{"--min-pass", "1", "--baseline", baseline, index}, 2},
		{[]string{"-s", "nope", index}, 2},
	} {
		writeFiles(t, filepath.Dir(index), map[string]string{"baseline": "1 # one passes\n"})
		var out bytes.Buffer
		args := append([]string{"--runner", runner}, c.args...)
		if got := Main(context.Background(), args, &out, &out); got != c.want {
			t.Errorf("%q: exit status %d, want %d\n%s", c.args, got, c.want, out.String())
		}
	}
}

func TestVerbosePrintsRunnerStderr(t *testing.T) {
	index, runner := suite(t, "- {id: loud, tool: tools/loud.sh, output: {}}\n", map[string]string{
		"loud.sh": `echo "traceback line 1" >&2; echo "traceback line 2" >&2; exit 1`,
	})
	for _, verbose := range []bool{false, true} {
		args := []string{"--runner", runner, index}
		if verbose {
			args = append([]string{"--verbose"}, args...)
		}
		var out bytes.Buffer
		Main(context.Background(), args, &out, &out)
		if has := strings.Contains(out.String(), "    traceback line 1\n"); has != verbose {
			t.Errorf("verbose=%v: stderr shown=%v:\n%s", verbose, has, out.String())
		}
	}
}

func TestMissingRunnerFailsTests(t *testing.T) {
	index, _ := suite(t, "- {id: x, tool: tools/t.sh, output: {}}\n", nil)
	var out bytes.Buffer
	code := Main(context.Background(), []string{"--runner", "/nonexistent/runner", index}, &out, &out)
	if code != 1 || !strings.Contains(out.String(), "FAIL x: cannot start the runner") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}

func TestCancelledRunStartsNothing(t *testing.T) {
	index, runner := suite(t, "- {id: x, tool: tools/t.sh, output: {}}\n", map[string]string{"t.sh": "echo '{}'"})
	tests, err := Load(index)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Run(ctx, Config{Runner: []string{runner}}, []Planned{{Test: tests[0]}})
	if res[0].Status != Failed || res[0].Message != "interrupted before the test started" {
		t.Fatalf("status %s, message %q", res[0].Status, res[0].Message)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(index), "tools/t.sh.args")); !os.IsNotExist(err) {
		t.Fatalf("the runner ran although the run was cancelled (%v)", err)
	}
}
