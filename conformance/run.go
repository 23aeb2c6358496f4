package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// UnsupportedFeature is the exit code by which a CWL runner says it does not
// implement something the test needs.
const UnsupportedFeature = 33

// Status is the verdict on one test.
type Status string

const (
	Passed      Status = "passed"
	Failed      Status = "failed"
	Unsupported Status = "unsupported" // exit 33 on a test not tagged required
	Skipped     Status = "skipped"     // excluded by tag, never run
)

// Result is the outcome of one planned test.
type Result struct {
	Test     Test
	Status   Status
	Duration time.Duration
	Message  string // why it failed or was skipped; empty on a pass
	Stderr   string // the runner's stderr, for --verbose and JUnit
}

// Config says how to invoke the runner.
type Config struct {
	Runner  []string      // the runner command and its fixed arguments
	Jobs    int           // tests run at once; below 1 means 1
	Timeout time.Duration // per test; 0 means none
	TempDir string        // parent of the per-test directories; "" is os.TempDir

	// OnResult, when set, hears about each test as it finishes, one call at
	// a time, with how many of the total are done.
	OnResult func(done, total int, r Result)
}

// Run executes the plan with cfg.Jobs tests at a time and returns the results
// in plan order. Cancelling ctx kills the running runners; their tests fail.
func Run(ctx context.Context, cfg Config, plan []Planned) []Result {
	results := make([]Result, len(plan))
	var mu sync.Mutex
	done := 0
	finish := func(i int, r Result) {
		mu.Lock()
		defer mu.Unlock()
		results[i] = r
		done++
		if cfg.OnResult != nil {
			cfg.OnResult(done, len(plan), r)
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(cfg.Jobs, 1) {
		wg.Go(func() {
			for i := range work {
				finish(i, runTest(ctx, cfg, plan[i].Test))
			}
		})
	}
	for i, p := range plan {
		if p.Skip != "" {
			finish(i, Result{Test: p.Test, Status: Skipped, Message: p.Skip})
			continue
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return results
}

// runTest runs one test in fresh output and working directories, judges the
// outcome, and removes both directories afterwards: comparing needs the
// output files, so removal waits until the verdict is in.
func runTest(ctx context.Context, cfg Config, t Test) Result {
	res := Result{Test: t, Status: Failed}
	if len(cfg.Runner) == 0 {
		res.Message = "no runner command is configured"
		return res
	}
	if ctx.Err() != nil {
		res.Message = "interrupted before the test started"
		return res
	}
	outdir, err := os.MkdirTemp(cfg.TempDir, "conformance-out-")
	if err != nil {
		res.Message = fmt.Sprintf("cannot create the output directory: %v", err)
		return res
	}
	defer removeAll(outdir)
	cwd, err := os.MkdirTemp(cfg.TempDir, "conformance-cwd-")
	if err != nil {
		res.Message = fmt.Sprintf("cannot create the working directory: %v", err)
		return res
	}
	defer removeAll(cwd)

	args := append(append([]string{}, cfg.Runner[1:]...), "--outdir="+outdir, "--quiet", t.Tool)
	if t.Job != "" {
		args = append(args, t.Job)
	}
	inv := invoke(ctx, cfg.Runner[0], args, cwd, cfg.Timeout)
	res.Duration, res.Stderr = inv.duration, inv.stderr
	res.Status, res.Message = judge(ctx, t, inv, cfg.Timeout)
	return res
}

// invocation is what one runner process did.
type invocation struct {
	stdout, stderr string
	exitCode       int // -1 when killed by a signal
	startErr       error
	timedOut       bool
	duration       time.Duration
}

// invoke runs the runner in its own process group. On timeout (or when ctx
// ends) the whole group is killed, so container engines and tools the runner
// spawned die with it instead of outliving the test.
func invoke(ctx context.Context, name string, args []string, dir string, timeout time.Duration) invocation {
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	cmd := exec.CommandContext(runCtx, name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild holding stdout open must not keep us waiting forever.
	cmd.WaitDelay = 5 * time.Second
	var stdout bytes.Buffer
	stderr := &capped{limit: 1 << 20}
	cmd.Stdout, cmd.Stderr = &stdout, stderr

	start := time.Now()
	err := cmd.Run()
	inv := invocation{duration: time.Since(start), stdout: stdout.String(), stderr: stderr.String()}
	if cmd.ProcessState == nil {
		inv.startErr = err
		return inv
	}
	// Leftovers of the group would hold files in the directories about to be
	// removed; the group is ours alone, so clearing it is safe.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	inv.exitCode = cmd.ProcessState.ExitCode()
	inv.timedOut = errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	return inv
}

// judge applies cwltest's verdict rules, in cwltest's order: exit 33 on a
// test that is not required is "unsupported" even when the test expects
// failure; any other non-zero exit passes a should_fail test and fails the
// rest; a zero exit fails a should_fail test, and otherwise stdout must be
// JSON matching the expected output.
func judge(ctx context.Context, t Test, inv invocation, timeout time.Duration) (Status, string) {
	switch {
	case inv.startErr != nil:
		return Failed, fmt.Sprintf("cannot start the runner: %v", inv.startErr)
	case inv.timedOut:
		return Failed, fmt.Sprintf("timed out after %s; the runner's process group was killed", timeout)
	case ctx.Err() != nil:
		return Failed, "interrupted before the runner finished"
	case inv.exitCode == UnsupportedFeature && !t.Required():
		return Unsupported, "the runner reported an unsupported feature (exit 33)"
	case inv.exitCode != 0 && t.ShouldFail:
		return Passed, ""
	case inv.exitCode == UnsupportedFeature:
		return Failed, "the runner does not support a feature this required test needs (exit 33)" + lastLine(inv.stderr)
	case inv.exitCode < 0:
		return Failed, "the runner was killed by a signal" + lastLine(inv.stderr)
	case inv.exitCode != 0:
		return Failed, fmt.Sprintf("the runner exited with code %d%s", inv.exitCode, lastLine(inv.stderr))
	}
	out, err := parseOutput(inv.stdout)
	if err != nil {
		return Failed, err.Error()
	}
	if t.ShouldFail {
		return Failed, "the runner succeeded but the test expects it to fail"
	}
	if err := Compare(t.Output, out); err != nil {
		return Failed, "output mismatch at " + err.Error()
	}
	return Passed, ""
}

// parseOutput reads the runner's stdout as one JSON value. Empty stdout
// stands for an empty object, as in cwltest.
func parseOutput(stdout string) (any, error) {
	if stdout == "" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the runner's stdout is not valid JSON (%v): %q", err, shorten(stdout, 200))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("the runner's stdout holds more than one JSON value: %q", shorten(stdout, 200))
	}
	return normalize(v), nil
}

// lastLine returns the last non-blank line of a runner's stderr, formatted as
// a suffix for a failure message; it is usually the error that matters.
func lastLine(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return ""
	}
	return ": " + shorten(last, 200)
}

// removeAll deletes a test directory even when the runner left read-only
// folders in it, which os.RemoveAll alone cannot empty.
func removeAll(dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(dir)
}

// capped keeps the first limit bytes written and drops the rest, so a
// runner that floods stderr cannot exhaust memory.
type capped struct {
	buf   bytes.Buffer
	limit int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.limit - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string { return c.buf.String() }
