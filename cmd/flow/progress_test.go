package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/logging"
	"github.com/flow-cwl/flow/internal/testenv"
)

// statusRE matches the status line, with its elapsed seconds below a
// minute in group 1.
var statusRE = regexp.MustCompile(`flow (?:(\d+)s|\d+m\d+s) \| `)

// tmuxPane runs a shell command in a detached tmux pane of a server of its
// own (so no user's tmux, and none of its environment, is involved), and
// records every byte the pane receives.
type tmuxPane struct {
	t      *testing.T
	socket string
	raw    string // the pane's output, as written by the programs
}

func newTmuxPane(t *testing.T, command string) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.SkipOrFail(t, "tmux is not installed (apt-get install tmux)")
	}
	p := &tmuxPane{t: t, socket: fmt.Sprintf("flow-test-%d", os.Getpid()), raw: filepath.Join(t.TempDir(), "pane.raw")}
	// The command waits for "go" so that pipe-pane records from its
	// first byte.
	p.tmux("new-session", "-d", "-x", "160", "-y", "40", "sh", "-c", "tmux -L "+p.socket+" wait-for go; "+command+"; echo FLOW-EXIT=$?; sleep 600")
	t.Cleanup(func() { exec.Command("tmux", "-L", p.socket, "kill-server").Run() })
	p.tmux("pipe-pane", "-o", "cat >>"+p.raw)
	p.tmux("wait-for", "-S", "go")
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// waitFor polls the screen until it matches re or the timeout passes; it
// returns the screen.
func (p *tmuxPane) waitFor(re *regexp.Regexp, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		screen := p.tmux("capture-pane", "-p")
		if re.MatchString(screen) {
			return screen, true
		}
		if time.Now().After(deadline) {
			return screen, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStatusLineOnTerminal runs a scatter on a terminal (a tmux pane):
// the status line shows while it runs and is gone after it; log lines
// printed meanwhile are whole lines.
func TestStatusLineOnTerminal(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cmd := fmt.Sprintf("cd %s && env XDG_DATA_HOME=%s %s run --no-cache --parallel 2 --outdir %s testdata/progress/sleep.cwl --n 6 --secs 1 >%s",
		shq(mustAbs(t, ".")), shq(filepath.Join(dir, "data")), shq(flowBin), shq(out), shq(filepath.Join(dir, "out.json")))
	p := newTmuxPane(t, cmd)

	// Generous timeouts: a busy machine makes everything slow; how soon
	// the line appeared is judged below from flow's own clock.
	screen, ok := p.waitFor(statusRE, 60*time.Second)
	if !ok {
		t.Fatalf("no status line on the terminal within 60 s; the screen:\n%s", screen)
	}
	if !strings.Contains(screen, "| sleep jobs") && !strings.Contains(screen, "steps 0/3") && !strings.Contains(screen, "steps 1/3") {
		t.Errorf("the status line shows neither steps nor the scatter's jobs:\n%s", screen)
	}
	screen, ok = p.waitFor(regexp.MustCompile(`FLOW-EXIT=\d+`), 120*time.Second)
	if !ok {
		t.Fatalf("flow run did not finish within 120 s; the screen:\n%s", screen)
	}
	if !strings.Contains(screen, "FLOW-EXIT=0") {
		t.Fatalf("flow run failed; the screen:\n%s", screen)
	}
	if statusRE.MatchString(screen) {
		t.Errorf("the status line is still on the screen after the run:\n%s", screen)
	}
	if !strings.Contains(screen, "run started; its logs: flow logs ") {
		t.Errorf("no line at the start naming the run and its logs:\n%s", screen)
	}
	logLine := regexp.MustCompile(`^\d\d:\d\d:\d\d (INF|WRN|ERR|DBG) `)
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, " INF ") && !logLine.MatchString(l) {
			t.Errorf("a log line garbled by the status line: %q", l)
		}
	}
	for _, want := range []string{"step skipped: when is false", "step=main/never"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the skipped step's log line lacks %q:\n%s", want, screen)
		}
	}

	// Every frame the terminal received: the first status line must show
	// at most 2 s of flow's own elapsed time. Judging by flow's clock, not
	// by when this test's polling happened to see the line, keeps a busy
	// machine (slow polls, slow tmux) from failing a program that drew in
	// time.
	raw, err := os.ReadFile(p.raw)
	if err != nil {
		t.Fatal(err)
	}
	first := statusRE.FindSubmatch(raw)
	if first == nil {
		t.Fatalf("the terminal never received a status line:\n%q", raw)
	}
	if secs, err := strconv.Atoi(string(first[1])); err != nil || secs > 2 {
		t.Errorf("the first status line came %q after flow started; want within 2 s", first[0])
	}
	var o map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil || json.Unmarshal(b, &o) != nil || len(o["done"].([]any)) != 6 {
		t.Errorf("stdout is not the output object with 6 files: %v\n%s", err, b)
	}
}

// TestNoStatusLineWithoutTerminal: with stderr a file there is no status
// line (no carriage returns or escape codes in the log) and, for a run
// shorter than 10 s, no progress event either; --quiet leaves only the
// output object.
func TestNoStatusLineWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	r := flow(t, "run", "--no-cache", "--outdir", filepath.Join(dir, "out"), "testdata/progress/sleep.cwl", "--n", "3", "--secs", "0")
	if r.code != 0 {
		t.Fatalf("flow run failed: %s", r.stderr)
	}
	if strings.ContainsAny(r.stderr, "\r\033") || strings.Contains(r.stderr, "progress") {
		t.Errorf("the log of a run without a terminal has a status line or progress event:\n%q", r.stderr)
	}
	if !regexp.MustCompile(`run started; its logs: flow logs \S+`).MatchString(r.stderr) {
		t.Errorf("no line at the start naming the run and its logs:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "step skipped: when is false") || regexp.MustCompile(`step done.*step=main/never`).MatchString(r.stderr) {
		t.Errorf("the step whose when is false is not logged as skipped:\n%s", r.stderr)
	}
	q := flow(t, "run", "--quiet", "--no-cache", "--outdir", filepath.Join(dir, "out2"), "testdata/progress/sleep.cwl", "--n", "3", "--secs", "0")
	if q.code != 0 || q.stderr != "" {
		t.Errorf("flow run --quiet: exit %d, stderr:\n%s", q.code, q.stderr)
	}
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestNoProgressFlags: --quiet and --no-progress leave the engine without
// a progress hook, whatever stderr is; otherwise there is one.
func TestNoProgressFlags(t *testing.T) {
	for _, c := range []struct {
		opts logging.Options
		show bool
		want bool
	}{
		{logging.Options{Format: logging.Console}, true, true},
		{logging.Options{Format: logging.JSON}, true, true},
		{logging.Options{Format: logging.Console, Quiet: true}, true, false},
		{logging.Options{Format: logging.Console}, false, false},
	} {
		_, d := runLogger(io.Discard, c.opts, c.show)
		if (d != nil) != c.want {
			t.Errorf("runLogger(%+v, show %v): display %v, want one: %v", c.opts, c.show, d != nil, c.want)
		}
		if d != nil {
			d.Stop()
		}
	}
}
