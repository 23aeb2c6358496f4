package conformance

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// parseArgs reads the command line. Flags may come before or after the test
// file, and cwltest's glued short forms (-n5-7, -sid, -j4) are accepted.
func parseArgs(args []string, stderr io.Writer) (options, error) {
	opts := options{runner: "flow run", jobs: runtime.NumCPU(), timeout: 600 * time.Second, minPass: -1}
	var tags, excludeTags, ids, excludeIDs, nums, excludeNums string
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&opts.runner, "runner", opts.runner, "runner `command`, split on spaces")
	fs.Func("runner-arg", "extra `argument` for the runner (repeatable)", func(s string) error {
		opts.runnerArgs = append(opts.runnerArgs, s)
		return nil
	})
	fs.IntVar(&opts.jobs, "j", opts.jobs, "number of tests to run at once")
	fs.StringVar(&tags, "tags", "", "run only tests with any of these comma-separated `tags`")
	fs.StringVar(&excludeTags, "exclude-tags", "", "skip tests with any of these comma-separated `tags`")
	fs.StringVar(&ids, "s", "", "run only these comma-separated test `ids`")
	fs.StringVar(&excludeIDs, "S", "", "leave out these comma-separated test `ids`")
	fs.StringVar(&nums, "n", "", "run only these 1-based test `numbers`, e.g. 1-5,9")
	fs.StringVar(&excludeNums, "N", "", "leave out these 1-based test `numbers`")
	fs.DurationVar(&opts.timeout, "timeout", opts.timeout, "per-test time limit; 0 for none")
	fs.Func("min-pass", "exit non-zero only when fewer than `N` tests pass", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a non-negative whole number", s)
		}
		opts.minPass = n
		return nil
	})
	fs.StringVar(&opts.baseline, "baseline", "", "like --min-pass, reading N from `file`")
	fs.BoolVar(&opts.verbose, "verbose", false, "print the runner's stderr for failing tests")
	fs.StringVar(&opts.junit, "junit", "", "write JUnit XML results to `file`")
	fs.StringVar(&opts.json, "json", "", "write per-test JSON results to `file`")

	positional, err := parseInterleaved(fs, unglue(fs, args))
	if err != nil {
		return opts, err
	}
	if len(positional) != 1 {
		fs.Usage()
		return opts, errors.New("expected exactly one test file")
	}
	opts.testFile = positional[0]
	if opts.sel, err = selection(tags, excludeTags, ids, excludeIDs, nums, excludeNums); err != nil {
		return opts, err
	}
	if strings.TrimSpace(opts.runner) == "" {
		return opts, errors.New("the --runner command is empty")
	}
	return opts, nil
}

// parseInterleaved lets positional arguments sit between flags, which the
// flag package alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// unglue splits cwltest-style "-n5-7" into "-n" "5-7". Only single-letter
// selector flags are split, and only when the whole word is not itself a
// flag name, so "-junit" stays a flag.
func unglue(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		if len(a) > 2 && a[0] == '-' && strings.ContainsRune("nNsSj", rune(a[1])) &&
			!strings.Contains(a, "=") && fs.Lookup(a[1:]) == nil {
			out = append(out, a[:2], a[2:])
			continue
		}
		out = append(out, a)
	}
	return out
}

func selection(tags, excludeTags, ids, excludeIDs, nums, excludeNums string) (Selection, error) {
	sel := Selection{
		Tags: SplitList(tags), ExcludeTags: SplitList(excludeTags),
		IDs: SplitList(ids), ExcludeIDs: SplitList(excludeIDs),
	}
	var err error
	if sel.Numbers, err = ParseRanges(nums); err != nil {
		return sel, err
	}
	sel.ExcludeNums, err = ParseRanges(excludeNums)
	return sel, err
}
