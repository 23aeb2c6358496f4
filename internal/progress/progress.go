// Package progress shows what a run is doing while it runs: on a
// terminal, one status line redrawn in place below the log; elsewhere, a
// progress event in the log every so often. It learns what happens from
// the engine's progress events (engine.Options.Progress).
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/engine"
)

const (
	clearLine = "\r\033[K" // back to the line's start, erase to its end

	// DefaultRedraw is how often the status line may change: often enough
	// to look alive, rarely enough that drawing costs nothing beside jobs.
	DefaultRedraw = 200 * time.Millisecond
	// DefaultEvery is how often a progress event is logged without a
	// terminal: a log file gains a line per 10 s, not per job.
	DefaultEvery = 10 * time.Second
)

// Options choose how progress is shown.
type Options struct {
	// Line, when set, is the terminal the status line is drawn on; the
	// log must then be written through Display.Writer so that its lines
	// and the status line do not garble each other.
	Line io.Writer
	// Width tells the terminal's width, so the line never wraps (a
	// wrapped line cannot be erased by going back to its start); nil or
	// a result below 20 means 80 columns.
	Width func() int
	// Log receives a "progress" event every Every when Line is nil.
	Log   zerolog.Logger
	Every time.Duration // default DefaultEvery
	// Redraw is the least time between two drawings of the line.
	Redraw time.Duration // default DefaultRedraw
	// Start is when the run started (default: when New is called), so the
	// elapsed time counts from flow's own start.
	Start time.Time
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Display keeps the counts and shows them. Its methods may be called from
// any goroutine.
type Display struct {
	opts Options

	mu      sync.Mutex
	root    string // the top-level workflow's name, from its first event
	total   int    // the top-level workflow's steps
	steps   map[string]*step
	scatter []string // steps with several jobs, not finished, in start order
	shown   string   // the status line on the terminal now; "" when none
	// transfers are the data transfers in progress, by name (transfer.go).
	transfers map[string]*transfer
	stopped   bool

	stop chan struct{}
	done chan struct{}
}

// step is what is known of one step.
type step struct {
	jobs, running, finished int
	done                    bool
	skipped                 bool
}

// New starts showing progress; Stop ends it.
func New(opts Options) *Display {
	if opts.Every <= 0 {
		opts.Every = DefaultEvery
	}
	if opts.Redraw <= 0 {
		opts.Redraw = DefaultRedraw
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Start.IsZero() {
		opts.Start = opts.Now()
	}
	d := &Display{
		opts:  opts,
		steps: map[string]*step{},
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go d.loop()
	return d
}

// loop redraws the line (on a terminal) or logs the counts (elsewhere)
// until Stop.
func (d *Display) loop() {
	defer close(d.done)
	every := d.opts.Every
	if d.opts.Line != nil {
		every = d.opts.Redraw
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			if d.opts.Line != nil {
				d.redraw()
			} else {
				d.logProgress()
			}
		}
	}
}

// Event is the engine's progress hook.
func (d *Display) Event(ev engine.ProgressEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch ev.Kind {
	case engine.WorkflowStarted:
		if d.root == "" {
			d.root, d.total = ev.Name, ev.Jobs
		}
	case engine.StepStarted:
		s := d.step(ev.Name)
		s.jobs = ev.Jobs
		if ev.Jobs > 1 {
			d.scatter = append(d.scatter, ev.Name)
		}
	case engine.StepDone:
		s := d.step(ev.Name)
		s.done = true
		s.skipped = ev.Jobs > 0 && ev.Skipped == ev.Jobs
		for i, n := range d.scatter {
			if n == ev.Name {
				d.scatter = append(d.scatter[:i], d.scatter[i+1:]...)
				break
			}
		}
	case engine.JobStarted:
		d.step(parent(ev.Name)).running++
	case engine.JobEnded:
		d.step(parent(ev.Name)).running--
	case engine.JobDone:
		d.step(parent(ev.Name)).finished++
	}
}

func (d *Display) step(name string) *step {
	s, ok := d.steps[name]
	if !ok {
		s = &step{}
		d.steps[name] = s
	}
	return s
}

// parent is the name a job or step belongs to: main/align for
// main/align/3.
func parent(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// counts is a snapshot of the top-level workflow's steps and of the
// first running scatter. Called with d.mu held.
type counts struct {
	elapsed                       time.Duration
	total, done, skipped, running int
	scatter                       string
	jobs, jobsDone, jobsRunning   int
	moreScatters                  int
}

func (d *Display) counts() counts {
	c := counts{elapsed: d.opts.Now().Sub(d.opts.Start), total: d.total}
	for name, s := range d.steps {
		if d.root == "" || parent(name) != d.root {
			continue
		}
		switch {
		case s.skipped:
			c.skipped++
		case s.done:
			c.done++
		default:
			c.running++
		}
	}
	if len(d.scatter) > 0 {
		c.scatter = d.scatter[0]
		s := d.steps[c.scatter]
		c.jobs, c.jobsDone, c.jobsRunning = s.jobs, s.finished, s.running
		c.moreScatters = len(d.scatter) - 1
	}
	return c
}

func (c counts) waiting() int {
	return max(c.total-c.done-c.skipped-c.running, 0)
}

// line is the status line for c.
func (c counts) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flow %s", FormatElapsed(c.elapsed))
	if c.total == 0 && c.scatter == "" {
		b.WriteString(" | running") // loading, or a single tool
	}
	if c.total > 0 {
		fmt.Fprintf(&b, " | steps %d/%d done", c.done, c.total)
		if c.skipped > 0 {
			fmt.Fprintf(&b, ", %d skipped", c.skipped)
		}
		fmt.Fprintf(&b, ", %d running, %d waiting", c.running, c.waiting())
	}
	if c.scatter != "" {
		fmt.Fprintf(&b, " | %s jobs %d/%d done, %d running", strings.TrimPrefix(c.scatter, "main/"), c.jobsDone, c.jobs, c.jobsRunning)
		if c.moreScatters > 0 {
			fmt.Fprintf(&b, " (+%d more scatters)", c.moreScatters)
		}
	}
	return b.String()
}

// FormatElapsed writes a duration as a clock would: 7s, 1m05s, 2h03m.
func FormatElapsed(d time.Duration) string {
	s := int(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s/60%60)
}

// fit cuts line to the terminal's width less one column, so that the
// cursor never reaches the last column and the terminal never wraps.
func (d *Display) fit(line string) string {
	w := 80
	if d.opts.Width != nil {
		if n := d.opts.Width(); n >= 20 {
			w = n
		}
	}
	r := []rune(line)
	if len(r) >= w {
		r = append(r[:w-2], '~')
	}
	return string(r)
}

// redraw draws the current line if it changed.
func (d *Display) redraw() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	line := d.fit(d.counts().line() + d.transferPart())
	if line == d.shown {
		return
	}
	d.shown = line
	io.WriteString(d.opts.Line, clearLine+line)
}

// logProgress logs the counts as one event.
func (d *Display) logProgress() {
	d.mu.Lock()
	c := d.counts()
	moving := len(d.transfers) > 0
	done, total, _, rate := d.transferCounts()
	d.mu.Unlock()
	ev := d.opts.Log.Info().Str("elapsed", FormatElapsed(c.elapsed))
	if moving {
		ev = ev.Int64("bytes_done", done).Int64("bytes_total", total).Int64("bytes_per_second", int64(rate))
	}
	if c.total > 0 {
		ev = ev.Int("steps_done", c.done).Int("steps_skipped", c.skipped).
			Int("steps_running", c.running).Int("steps_waiting", c.waiting()).Int("steps_total", c.total)
	}
	if c.scatter != "" {
		ev = ev.Str("scatter", c.scatter).Int("jobs_done", c.jobsDone).
			Int("jobs_running", c.jobsRunning).Int("jobs_total", c.jobs)
	}
	ev.Msg("progress")
}

// Writer wraps the log's destination: each write erases the status line,
// writes the log line and draws the status line again below it, in one
// write, so that neither garbles the other.
func (d *Display) Writer(w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.shown == "" {
			return w.Write(p)
		}
		buf := make([]byte, 0, len(clearLine)+len(p)+len(clearLine)+len(d.shown))
		buf = append(buf, clearLine...)
		buf = append(buf, p...)
		if len(p) > 0 && p[len(p)-1] == '\n' {
			buf = append(buf, clearLine...)
			buf = append(buf, d.shown...)
		} else {
			// A line left open: the status line would join it, so it
			// stays away until the next redraw.
			d.shown = ""
		}
		if _, err := w.Write(buf); err != nil {
			return 0, err
		}
		return len(p), nil
	})
}

// StopOnWrite wraps w (the run's stdout) so that the status line is
// removed before anything is written there: what a run prints on stdout
// is its result, and the run is over.
func (d *Display) StopOnWrite(w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		d.Stop()
		return w.Write(p)
	})
}

// Stop removes the status line and ends the display; it may be called
// more than once.
func (d *Display) Stop() {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.stopped = true
	if d.shown != "" {
		io.WriteString(d.opts.Line, clearLine)
		d.shown = ""
	}
	d.mu.Unlock()
	close(d.stop)
	<-d.done
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
