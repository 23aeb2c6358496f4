// Package cwltest runs the CWL project's conformance runner, cwltest (a
// Python program), and reads the JUnit XML report it writes. cwltest is the
// judge of conformance: flow does not judge itself. Its exit status says
// nothing (run as "python3 -m cwltest" it is always 0), so verdicts come
// from the report alone.
package cwltest

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Status is cwltest's verdict on one test.
type Status string

const (
	Passed      Status = "passed"
	Failed      Status = "failed"      // <failure> or <error>: wrong output, wrong exit code, timeout
	Unsupported Status = "unsupported" // <skipped>: exit code 33 on a test not tagged required
)

// Case is one test of a report.
type Case struct {
	Number  int    // 1-based, in the suite's (tag-filtered) order
	ID      string // the test's id, e.g. "stdout_redirect_docker"
	Tags    []string
	Status  Status
	Message string // why it failed
	Stdout  string // the runner's stdout (its output object)
	Stderr  string
}

type junitCase struct {
	Name    string     `xml:"name,attr"`
	Class   string     `xml:"class,attr"` // cwltest's "category": the tags, ", "-separated
	File    string     `xml:"file,attr"`  // the test's id
	URL     string     `xml:"url,attr"`   // cwltest:SUITE#N
	Failure []junitMsg `xml:"failure"`
	Error   []junitMsg `xml:"error"`
	Skipped []junitMsg `xml:"skipped"`
	Stdout  string     `xml:"system-out"`
	Stderr  string     `xml:"system-err"`
}

type junitMsg struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// ReadJUnit reads the testcases of a JUnit XML report as cwltest writes it.
// A report without a single testcase is an error: it means cwltest found no
// test or stopped before writing any.
func ReadJUnit(r io.Reader) ([]Case, error) {
	var doc struct {
		Suites []struct {
			Cases []junitCase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a JUnit XML report: %w", err)
	}
	var cases []Case
	for _, s := range doc.Suites {
		for _, jc := range s.Cases {
			cases = append(cases, jc.toCase(len(cases)+1))
		}
	}
	if len(cases) == 0 {
		return nil, errors.New("the report holds no test")
	}
	return cases, nil
}

// ReadJUnitFile is ReadJUnit on a file.
func ReadJUnitFile(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read cwltest's report: %w", err)
	}
	defer f.Close()
	cases, err := ReadJUnit(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cases, nil
}

func (jc junitCase) toCase(pos int) Case {
	c := Case{Number: pos, ID: jc.File, Status: Passed, Stdout: jc.Stdout, Stderr: jc.Stderr}
	if _, n, ok := strings.Cut(jc.URL, "#"); ok {
		if i, err := strconv.Atoi(n); err == nil {
			c.Number = i
		}
	}
	if c.ID == "" {
		c.ID = jc.Name
	}
	for _, t := range strings.Split(jc.Class, ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.Tags = append(c.Tags, t)
		}
	}
	switch {
	case len(jc.Failure) > 0 || len(jc.Error) > 0:
		c.Status = Failed
		for _, m := range slices.Concat(jc.Failure, jc.Error) {
			c.Message = firstNonEmpty(c.Message, m.Message, strings.TrimSpace(m.Text))
		}
		if c.Message == "" {
			// cwltest gives no message when the exit code was wrong,
			// e.g. a should_fail test that succeeded.
			c.Message = "failed (see cwltest's log)"
		}
	case len(jc.Skipped) > 0:
		c.Status = Unsupported
	}
	return c
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// Counts tallies cases by status.
type Counts struct {
	Passed, Failed, Unsupported int
}

// Total is the number of cases counted.
func (c Counts) Total() int { return c.Passed + c.Failed + c.Unsupported }

func (c *Counts) add(s Status) {
	switch s {
	case Passed:
		c.Passed++
	case Failed:
		c.Failed++
	case Unsupported:
		c.Unsupported++
	}
}

// Summary is a report at a glance: overall counts and counts per tag.
type Summary struct {
	Counts
	ByTag map[string]*Counts
}

// Summarize counts cases overall and under each of their tags.
func Summarize(cases []Case) Summary {
	s := Summary{ByTag: map[string]*Counts{}}
	for _, c := range cases {
		s.add(c.Status)
		for _, tag := range c.Tags {
			if s.ByTag[tag] == nil {
				s.ByTag[tag] = &Counts{}
			}
			s.ByTag[tag].add(c.Status)
		}
	}
	return s
}

// WriteTable prints one Markdown table row per tag, sorted by tag, the
// form the README shows.
func (s Summary) WriteTable(w io.Writer) {
	tags := make([]string, 0, len(s.ByTag))
	for tag := range s.ByTag {
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	fmt.Fprintln(w, "| tag | passed | failed | unsupported | total |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, tag := range tags {
		c := s.ByTag[tag]
		fmt.Fprintf(w, "| `%s` | %d | %d | %d | %d |\n", tag, c.Passed, c.Failed, c.Unsupported, c.Total())
	}
}

// Line is the closing line of a report.
func (s Summary) Line() string {
	return fmt.Sprintf("%d passed, %d failed, %d unsupported (of %d)", s.Passed, s.Failed, s.Unsupported, s.Total())
}

// ReadBaseline reads a pass count from a file holding one number; text from
// # to the end of a line is a comment.
func ReadBaseline(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("cannot read the baseline: %w", err)
	}
	var fields []string
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields = append(fields, strings.Fields(line)...)
	}
	if len(fields) != 1 {
		return 0, fmt.Errorf("%s: the baseline must hold exactly one number outside comments, found %d words", path, len(fields))
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: the baseline %q is not a non-negative whole number", path, fields[0])
	}
	return n, nil
}

// Options say how to run cwltest.
type Options struct {
	Source  string   // cwltest's checkout: its src/ goes on PYTHONPATH
	Python  string   // the interpreter with cwltest's dependencies ("" is Python())
	Suite   string   // the directory of conformance_tests.yaml; cwltest runs there
	Tool    string   // the runner executable
	Args    []string // the runner's first arguments, e.g. "run", "--sandbox"
	Tags    string   // --tags, comma-separated; "" runs every test
	Jobs    int      // -j; below 1 means 1
	Timeout int      // --timeout in seconds per test; 0 is cwltest's default
	JUnit   string   // where the report goes
	TempDir string   // TMPDIR of cwltest and the runner: cwltest leaves its output directories there
}

// Python is the interpreter that runs cwltest: $CWLTEST_PYTHON, else
// Debian's /usr/bin/python3, where apt installs cwltest's dependencies
// (a python3 earlier on PATH may be another installation without them).
func Python() string {
	if p := os.Getenv("CWLTEST_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// Command is cwltest's command line for o, in its own process group so
// that cancelling ctx stops cwltest and every runner it started.
func Command(ctx context.Context, o Options) *exec.Cmd {
	py := o.Python
	if py == "" {
		py = Python()
	}
	args := []string{"-m", "cwltest", "--test", "conformance_tests.yaml", "--tool", o.Tool,
		"-j", strconv.Itoa(max(o.Jobs, 1)), "--junit-xml", o.JUnit}
	if o.Timeout > 0 {
		args = append(args, "--timeout", strconv.Itoa(o.Timeout))
	}
	if o.Tags != "" {
		args = append(args, "--tags", o.Tags)
	}
	args = append(append(args, "--"), o.Args...)
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Dir = o.Suite
	// cwltest runs in the suite's directory: relative paths would
	// resolve there.
	src, _ := filepath.Abs(o.Source)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(src, "src"))
	if o.TempDir != "" {
		cmd.Env = append(cmd.Env, "TMPDIR="+o.TempDir)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// Available says why cwltest cannot run here, or nil when it can.
func Available(source, python string) error {
	if _, err := os.Stat(filepath.Join(source, "src", "cwltest", "main.py")); err != nil {
		return fmt.Errorf("no cwltest at %s (set CWLTEST)", source)
	}
	if python == "" {
		python = Python()
	}
	probe := exec.Command(python, "-c", "import cwltool, junit_xml, schema_salad")
	if out, err := probe.CombinedOutput(); err != nil {
		return fmt.Errorf("%s lacks cwltest's dependencies (apt-get install cwltool python3-junit.xml): %v: %s", python, err, lastLine(out))
	}
	return nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
