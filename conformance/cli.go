package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const usage = `usage: conformance [flags] TESTFILE

Runs the CWL conformance tests listed in TESTFILE (for example
conformance_tests.yaml) against a CWL runner, the way cwltest does, and
prints failures, a per-tag table and "N passed, N failed, N skipped".

Exit status: 0 when no test failed, or with --min-pass/--baseline when at
least that many passed; 1 otherwise; 2 when the command line or the test
file is wrong.

flags:
`

// options is the parsed command line.
type options struct {
	testFile   string
	runner     string
	runnerArgs []string
	jobs       int
	timeout    time.Duration
	sel        Selection
	minPass    int
	baseline   string
	verbose    bool
	junit      string
	json       string
}

// Main runs the conformance command with args (without the program name)
// and returns its exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	status, err := run(ctx, opts, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return 2
	}
	return status
}

func run(ctx context.Context, opts options, stdout, stderr io.Writer) (int, error) {
	minPass, err := threshold(opts)
	if err != nil {
		return 0, err
	}
	tests, err := Load(opts.testFile)
	if err != nil {
		return 0, err
	}
	plan, err := Select(tests, opts.sel)
	if err != nil {
		return 0, err
	}
	progress := &Progress{Out: stdout, Err: stderr, Terminal: isTerminal(stderr), Verbose: opts.verbose}
	cfg := Config{
		Runner:   append(strings.Fields(opts.runner), opts.runnerArgs...),
		Jobs:     opts.jobs,
		Timeout:  opts.timeout,
		OnResult: progress.Result,
	}
	results := Run(ctx, cfg, plan)
	progress.Finish()

	summary := Summarize(results)
	summary.WriteTable(stdout)
	fmt.Fprintln(stdout, summary.ClosingLine())
	if err := writeReports(opts, results); err != nil {
		return 0, err
	}
	if minPass >= 0 {
		if summary.Passed < minPass {
			fmt.Fprintf(stderr, "conformance: %d tests passed, below the required %d\n", summary.Passed, minPass)
			return 1, nil
		}
		return 0, nil
	}
	if summary.Failed > 0 {
		return 1, nil
	}
	return 0, nil
}

// threshold returns the pass count the run must reach, or -1 when the exit
// status should depend on failures instead.
func threshold(opts options) (int, error) {
	switch {
	case opts.minPass >= 0 && opts.baseline != "":
		return 0, errors.New("use either --min-pass or --baseline, not both")
	case opts.baseline != "":
		return ReadBaseline(opts.baseline)
	}
	return opts.minPass, nil
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

func writeReports(opts options, results []Result) error {
	if opts.junit != "" {
		suite := strings.TrimSuffix(filepath.Base(opts.testFile), filepath.Ext(opts.testFile))
		err := writeFile(opts.junit, func(w io.Writer) error { return WriteJUnit(w, suite, results) })
		if err != nil {
			return err
		}
	}
	if opts.json != "" {
		return writeFile(opts.json, func(w io.Writer) error { return WriteJSON(w, results) })
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot create the report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("cannot write the report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write the report %s: %w", path, err)
	}
	return nil
}

// isTerminal reports whether w is a character device, the cue to redraw a
// progress counter in place rather than print nothing.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
