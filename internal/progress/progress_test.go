package progress

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/internal/testenv"
)

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// scatterEvents is a three-step workflow: one step done, one skipped, a
// 60-way scatter with 20 jobs done and 2 running.
func scatterEvents(d *Display) {
	d.Event(engine.ProgressEvent{Kind: engine.WorkflowStarted, Name: "main", Jobs: 3})
	d.Event(engine.ProgressEvent{Kind: engine.StepStarted, Name: "main/count", Jobs: 1})
	d.Event(engine.ProgressEvent{Kind: engine.JobStarted, Name: "main/count"})
	d.Event(engine.ProgressEvent{Kind: engine.JobEnded, Name: "main/count"})
	d.Event(engine.ProgressEvent{Kind: engine.StepDone, Name: "main/count", Jobs: 1})
	d.Event(engine.ProgressEvent{Kind: engine.StepStarted, Name: "main/never", Jobs: 1})
	d.Event(engine.ProgressEvent{Kind: engine.StepDone, Name: "main/never", Jobs: 1, Skipped: 1})
	d.Event(engine.ProgressEvent{Kind: engine.StepStarted, Name: "main/sleep", Jobs: 60})
	for i := 0; i < 22; i++ {
		d.Event(engine.ProgressEvent{Kind: engine.JobStarted, Name: "main/sleep/" + string(rune('a'+i))})
		if i < 20 {
			d.Event(engine.ProgressEvent{Kind: engine.JobEnded, Name: "main/sleep/" + string(rune('a'+i))})
			d.Event(engine.ProgressEvent{Kind: engine.JobDone, Name: "main/sleep/" + string(rune('a'+i))})
		}
	}
}

func TestStatusLine(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	d := New(Options{Line: &testenv.Buffer{}, Now: c.now, Redraw: time.Hour})
	defer d.Stop()
	c.add(75 * time.Second)
	scatterEvents(d)
	d.mu.Lock()
	got := d.counts().line()
	d.mu.Unlock()
	want := "flow 1m15s | steps 1/3 done, 1 skipped, 1 running, 0 waiting | sleep jobs 20/60 done, 2 running"
	if got != want {
		t.Errorf("status line:\n got %q\nwant %q", got, want)
	}
}

// TestLogLinesAndStatusLine: a log line written while the status line
// shows erases it, is written whole and is followed by the status line
// again; Stop erases it for good.
func TestLogLinesAndStatusLine(t *testing.T) {
	term := &testenv.Buffer{}
	c := &clock{t: time.Unix(1000, 0)}
	d := New(Options{Line: term, Now: c.now, Redraw: time.Hour})
	log := d.Writer(term)
	log.Write([]byte("before\n"))
	d.redraw()
	log.Write([]byte("a log line\n"))
	c.add(time.Second)
	d.redraw()
	d.redraw() // unchanged: not drawn again
	d.Stop()
	log.Write([]byte("after\n"))
	want := "before\n" +
		"\r\033[Kflow 0s | running" +
		"\r\033[Ka log line\n\r\033[Kflow 0s | running" +
		"\r\033[Kflow 1s | running" +
		"\r\033[K" +
		"after\n"
	if got := term.String(); got != want {
		t.Errorf("terminal received\n%q\nwant\n%q", got, want)
	}
}

// TestStopOnWrite: the output object on stdout comes after the status
// line is gone.
func TestStopOnWrite(t *testing.T) {
	term := &testenv.Buffer{}
	d := New(Options{Line: term, Redraw: time.Hour})
	d.redraw()
	var stdout bytes.Buffer
	d.StopOnWrite(&stdout).Write([]byte("{}\n"))
	if !strings.HasSuffix(term.String(), "\r\033[K") || stdout.String() != "{}\n" {
		t.Errorf("terminal %q, stdout %q", term.String(), stdout.String())
	}
	d.Stop() // again: no effect, no panic
}

func TestFitNeverWraps(t *testing.T) {
	d := &Display{opts: Options{Width: func() int { return 30 }}}
	got := d.fit(strings.Repeat("x", 40))
	if n := len([]rune(got)); n != 29 || !strings.HasSuffix(got, "~") {
		t.Errorf("fit to 30 columns: %q (%d)", got, n)
	}
	if got := d.fit("short"); got != "short" {
		t.Errorf("fit(short) = %q", got)
	}
}

// TestProgressEvent: without a terminal the counts are logged as one
// event, with the fields a machine reading JSON logs needs.
func TestProgressEvent(t *testing.T) {
	var buf testenv.Buffer
	c := &clock{t: time.Unix(1000, 0)}
	d := New(Options{Log: zerolog.New(&buf), Now: c.now, Every: time.Hour})
	defer d.Stop()
	scatterEvents(d)
	c.add(10 * time.Second)
	d.logProgress()
	var ev map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &ev); err != nil {
		t.Fatalf("not one JSON event: %v\n%s", err, buf.String())
	}
	want := map[string]any{"message": "progress", "elapsed": "10s", "steps_done": 1.0, "steps_skipped": 1.0,
		"steps_running": 1.0, "steps_waiting": 0.0, "steps_total": 3.0, "scatter": "main/sleep",
		"jobs_done": 20.0, "jobs_running": 2.0, "jobs_total": 60.0}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("%s = %v, want %v", k, ev[k], v)
		}
	}
}

func TestFormatElapsed(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1999 * time.Millisecond: "1s", 65 * time.Second: "1m05s", 3*time.Hour + 4*time.Minute: "3h04m",
	} {
		if got := FormatElapsed(d); got != want {
			t.Errorf("FormatElapsed(%v) = %q, want %q", d, got, want)
		}
	}
}
