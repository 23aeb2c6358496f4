package conformance

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Selection holds cwltest's test selectors. Empty fields select everything.
type Selection struct {
	Tags        []string // keep only tests with any of these tags
	ExcludeTags []string // keep these in the plan but skip them
	IDs         []string // -s: only these ids (together with Numbers)
	ExcludeIDs  []string // -S: drop these ids
	Numbers     []int    // -n: only these 1-based numbers (together with IDs)
	ExcludeNums []int    // -N: drop these numbers
}

// Planned is a test chosen to appear in the report. Skip, when set, says why
// it will not run.
type Planned struct {
	Test Test
	Skip string
}

// Select applies sel to tests, keeping file order. -s and -n add up, as in
// cwltest; -S, -N and --tags then narrow; --exclude-tags marks what is left
// as skipped rather than dropping it, so excluded tests stay visible in the
// report. Numbers are positions in the whole index, whatever the filters, so
// a number printed once keeps meaning the same test.
func Select(tests []Test, sel Selection) ([]Planned, error) {
	if err := checkSelectors(tests, sel); err != nil {
		return nil, err
	}
	var plan []Planned
	for _, t := range tests {
		if !chosen(t, sel) {
			continue
		}
		p := Planned{Test: t}
		if tag := firstShared(t.Tags, sel.ExcludeTags); tag != "" {
			p.Skip = fmt.Sprintf("excluded by tag %s", tag)
		}
		plan = append(plan, p)
	}
	return plan, nil
}

func chosen(t Test, sel Selection) bool {
	if len(sel.IDs)+len(sel.Numbers) > 0 &&
		!slices.Contains(sel.IDs, t.ID) && !slices.Contains(sel.Numbers, t.Number) {
		return false
	}
	if slices.Contains(sel.ExcludeIDs, t.ID) || slices.Contains(sel.ExcludeNums, t.Number) {
		return false
	}
	return len(sel.Tags) == 0 || firstShared(t.Tags, sel.Tags) != ""
}

// checkSelectors refuses ids and numbers that name no test: a typo would
// otherwise silently run nothing, or everything.
func checkSelectors(tests []Test, sel Selection) error {
	ids := make(map[string]bool, len(tests))
	for _, t := range tests {
		ids[t.ID] = true
	}
	for _, id := range slices.Concat(sel.IDs, sel.ExcludeIDs) {
		if !ids[id] {
			return fmt.Errorf("no test has the id %q", id)
		}
	}
	for _, n := range slices.Concat(sel.Numbers, sel.ExcludeNums) {
		if n < 1 || n > len(tests) {
			return fmt.Errorf("test number %d is out of range; the index holds tests 1 to %d", n, len(tests))
		}
	}
	return nil
}

func firstShared(have, want []string) string {
	for _, t := range have {
		if slices.Contains(want, t) {
			return t
		}
	}
	return ""
}

// SplitList splits a comma-separated flag value, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// maxTestNumber bounds ranges so a typo cannot allocate a billion numbers.
const maxTestNumber = 1_000_000

// ParseRanges reads a number list such as "1-5,9" into the numbers it names.
func ParseRanges(s string) ([]int, error) {
	var out []int
	for _, part := range SplitList(s) {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil || first < 1 {
			return nil, fmt.Errorf("%q in the test numbers is not a positive number or range like 1-5", part)
		}
		last := first
		if isRange {
			last, err = strconv.Atoi(strings.TrimSpace(hi))
			if err != nil || last < first {
				return nil, fmt.Errorf("%q in the test numbers is not a range like 1-5 with the smaller number first", part)
			}
		}
		if last > maxTestNumber {
			return nil, fmt.Errorf("%q in the test numbers goes beyond %d; no index is that large", part, maxTestNumber)
		}
		for n := first; n <= last; n++ {
			out = append(out, n)
		}
	}
	return out, nil
}
