// Command cwltest-report reads the JUnit XML report of a cwltest run and
// prints each failure, a per-tag table and the totals. It fails (exit 1)
// when fewer tests passed than --baseline says or, without --baseline,
// when any test failed; cwltest's own exit status cannot say either.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flow-cwl/flow/internal/cwltest"
)

const usage = `usage: cwltest-report [--baseline FILE] REPORT.xml

Summarises a cwltest JUnit XML report (cwltest --junit-xml). Exit status:
0 when at least the baseline's number of tests passed (without
--baseline: when none failed), 1 otherwise, 2 on a wrong command line or
an unreadable report.

flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cwltest-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	baseline := fs.String("baseline", "", "a file holding the fewest tests that must pass")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "cwltest-report: name one report (see --help)")
		return 2
	}
	minPass := -1
	if *baseline != "" {
		n, err := cwltest.ReadBaseline(*baseline)
		if err != nil {
			fmt.Fprintf(stderr, "cwltest-report: %v\n", err)
			return 2
		}
		minPass = n
	}
	cases, err := cwltest.ReadJUnitFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "cwltest-report: %v\n", err)
		return 2
	}
	for _, c := range cases {
		if c.Status == cwltest.Failed {
			fmt.Fprintf(stdout, "FAIL [%d] %s: %s\n", c.Number, c.ID, oneLine(c.Message))
			if tail := lastLines(c.Stderr, 10); tail != "" {
				fmt.Fprintln(stdout, tail)
			}
		}
	}
	s := cwltest.Summarize(cases)
	s.WriteTable(stdout)
	fmt.Fprintln(stdout, s.Line())
	switch {
	case minPass >= 0 && s.Passed < minPass:
		fmt.Fprintf(stderr, "cwltest-report: %d tests passed, below the baseline of %d\n", s.Passed, minPass)
		return 1
	case minPass < 0 && s.Failed > 0:
		fmt.Fprintf(stderr, "cwltest-report: %d of %d tests failed\n", s.Failed, s.Total())
		return 1
	}
	return 0
}

// oneLine makes a message one line, cut short. cwltest's comparison
// failures print both whole output objects and end with the innermost
// difference ("caused by: ..."): that end is the part worth a line.
func oneLine(s string) string {
	if i := strings.LastIndex(s, "caused by: "); i >= 0 {
		s = s[i+len("caused by: "):]
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

// lastLines is the end of the runner's stderr, indented under its FAIL line.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}
