package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Counts tallies results by status.
type Counts struct {
	Passed, Failed, Unsupported, Skipped int
}

// Total is the number of tests counted.
func (c Counts) Total() int { return c.Passed + c.Failed + c.Unsupported + c.Skipped }

func (c *Counts) add(s Status) {
	switch s {
	case Passed:
		c.Passed++
	case Failed:
		c.Failed++
	case Unsupported:
		c.Unsupported++
	case Skipped:
		c.Skipped++
	}
}

// Summary is the whole run at a glance: overall counts and counts per tag.
type Summary struct {
	Counts
	ByTag map[string]*Counts
}

// Summarize counts results overall and under each of their tags.
func Summarize(results []Result) Summary {
	s := Summary{ByTag: map[string]*Counts{}}
	for _, r := range results {
		s.add(r.Status)
		for _, tag := range r.Test.Tags {
			if s.ByTag[tag] == nil {
				s.ByTag[tag] = &Counts{}
			}
			s.ByTag[tag].add(r.Status)
		}
	}
	return s
}

// ClosingLine is the last line of a run. Unsupported tests count as skipped
// here; the table keeps them apart.
func (s Summary) ClosingLine() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped+s.Unsupported)
}

// WriteTable prints one row per tag, sorted by tag name.
func (s Summary) WriteTable(w io.Writer) {
	tags := make([]string, 0, len(s.ByTag))
	width := len("tag")
	for tag := range s.ByTag {
		tags = append(tags, tag)
		width = max(width, len(tag))
	}
	slices.Sort(tags)
	fmt.Fprintf(w, "%-*s %6s %6s %11s %7s %6s\n", width, "tag", "passed", "failed", "unsupported", "skipped", "total")
	for _, tag := range tags {
		c := s.ByTag[tag]
		fmt.Fprintf(w, "%-*s %6d %6d %11d %7d %6d\n", width, tag, c.Passed, c.Failed, c.Unsupported, c.Skipped, c.Total())
	}
}

// Progress prints a FAIL line for each failing test as it finishes and, on a
// terminal, a counter on stderr that each new result overwrites.
type Progress struct {
	Out      io.Writer // FAIL lines
	Err      io.Writer // the counter
	Terminal bool      // whether Err is a terminal, so "\r" can redraw it
	Verbose  bool      // print the runner's stderr under each FAIL line
	counts   Counts
}

// Result is suitable as Config.OnResult.
func (p *Progress) Result(done, total int, r Result) {
	p.counts.add(r.Status)
	if r.Status == Failed {
		p.clear()
		fmt.Fprintf(p.Out, "FAIL %s: %s\n", r.Test.ID, r.Message)
		if p.Verbose && strings.TrimSpace(r.Stderr) != "" {
			fmt.Fprintf(p.Out, "  stderr of %s:\n%s\n", r.Test.ID, indent(r.Stderr))
		}
	}
	if p.Terminal {
		fmt.Fprintf(p.Err, "\r[%d/%d] %d passed, %d failed", done, total, p.counts.Passed, p.counts.Failed)
	}
}

// Finish removes the counter so the report starts on a clean line.
func (p *Progress) Finish() { p.clear() }

func (p *Progress) clear() {
	if p.Terminal {
		fmt.Fprint(p.Err, "\r\033[K")
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

// jsonResult is one entry of the --json file.
type jsonResult struct {
	Number   int      `json:"number"`
	ID       string   `json:"id"`
	Tags     []string `json:"tags"`
	Status   Status   `json:"status"`
	Duration float64  `json:"duration"` // seconds
	Message  string   `json:"message,omitempty"`
}

// WriteJSON writes the per-test results as a JSON array in plan order.
func WriteJSON(w io.Writer, results []Result) error {
	out := make([]jsonResult, len(results))
	for i, r := range results {
		tags := r.Test.Tags
		if tags == nil {
			tags = []string{}
		}
		out[i] = jsonResult{r.Test.Number, r.Test.ID, tags, r.Status, r.Duration.Seconds(), r.Message}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
	SystemErr string        `xml:"system-err,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the results as one JUnit test suite named suite, the
// shape CI dashboards read. Unsupported tests appear as skipped.
func WriteJUnit(w io.Writer, suite string, results []Result) error {
	s := junitSuite{Name: suite, Tests: len(results)}
	var total float64
	for _, r := range results {
		c := junitCase{Name: r.Test.ID, Classname: suite, Time: seconds(r.Duration.Seconds())}
		total += r.Duration.Seconds()
		switch r.Status {
		case Failed:
			s.Failures++
			c.Failure = &junitMessage{Message: shorten(r.Message, 500), Text: r.Message}
			c.SystemErr = r.Stderr
		case Unsupported, Skipped:
			s.Skipped++
			c.Skipped = &junitMessage{Message: r.Message}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }
