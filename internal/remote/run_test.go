package remote

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 30*time.Second)

	out, err := c.Run(ctx, "echo hello; echo to-stderr >&2\nx=$((6*7)); echo $x")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if string(out) != "hello\n42\n" {
		t.Errorf("stdout = %q, want hello and 42", out)
	}

	_, err = c.Run(ctx, "echo some output; echo first >&2; echo last words >&2; exit 3")
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("Run of a failing script: got %v, want *ExitError", err)
	}
	if ee.Code != 3 || ee.Stderr != "first\nlast words\n" {
		t.Errorf("ExitError = %+v, want code 3 and both stderr lines", ee)
	}
	if !strings.Contains(err.Error(), "status 3") || !strings.Contains(err.Error(), "last words") {
		t.Errorf("message %q should give the status and the stderr tail", err)
	}
}

func TestRunStderrTailIsBounded(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	_, err := c.Run(testContext(t, 30*time.Second), "for i in $(seq 1 5000); do echo line$i >&2; done; exit 1")
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want *ExitError", err)
	}
	if len(ee.Stderr) > stderrTail || !strings.HasSuffix(ee.Stderr, "line5000\n") {
		t.Errorf("stderr tail has %d bytes ending %q; want at most %d ending with the last line",
			len(ee.Stderr), ee.Stderr[max(0, len(ee.Stderr)-20):], stderrTail)
	}
}

// The script travels on stdin; its commands must not be able to eat the
// rest of it.
func TestRunScriptCommandsReadDevNull(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	out, err := c.Run(testContext(t, 30*time.Second), "cat\necho after-cat\nread -r line || echo read-eof\necho \"[$s$n$__flow_s$__flow_n]\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "after-cat\nread-eof\n[]\n" {
		t.Errorf("stdout = %q; commands in the script read the script itself", out)
	}
}

func TestRunLargeOutputAndConcurrency(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 60*time.Second)
	errc := make(chan error, 20)
	for i := range 20 { // more than maxSessions, to exercise the bound
		go func() {
			out, err := c.Run(ctx, "head -c 1000000 /dev/zero")
			if err == nil && len(out) != 1000000 {
				err = errors.New("short output")
			}
			if err != nil {
				err = errors.Join(errors.New("run "+string(rune('A'+i))), err)
			}
			errc <- err
		}()
	}
	for range 20 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if n := c.dials.Load(); n != 1 {
		t.Errorf("%d connections were dialled, want 1 shared by every call", n)
	}
}

// Cancelling the ctx must stop the remote process, not just stop waiting.
func TestRunCancelStopsRemoteProcess(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, "sleep 987; echo not reached")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	// The remote command sleeps 987 s: returning, and the sleep going,
	// well before that is what shows the cancel, however busy the machine.
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("Run took %s to return after its deadline", d)
	}
	deadline := time.Now().Add(60 * time.Second)
	for processRunning("sleep", "987") {
		if time.Now().After(deadline) {
			t.Fatal("the remote sleep is still running after the ctx was cancelled")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The connection is still good for the next call.
	if _, err := c.Run(testContext(t, 10*time.Second), "true"); err != nil {
		t.Errorf("Run after a cancelled Run: %v", err)
	}
}

func TestLatency(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	d, err := c.Latency(testContext(t, 10*time.Second))
	if err != nil || d <= 0 || d > 30*time.Second {
		t.Errorf("Latency = %s, %v; want a short positive duration", d, err)
	}
}

func TestClosedClient(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, 10*time.Second)
	if _, err := c.Run(ctx, "true"); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
	if _, err := c.Stat(ctx, "/"); !errors.Is(err, ErrClosed) {
		t.Errorf("Stat after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A login shell that takes long to start the command (a blocking
// ~/.bashrc, here ForceCommand standing in for one) is named in the
// error, instead of a bare "context deadline exceeded".
func TestSlowLoginShellIsNamed(t *testing.T) {
	s := startServerWith(t, `ForceCommand sleep 20; eval "$SSH_ORIGINAL_COMMAND"`)
	c := s.dial(s.clientConfig())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := c.Run(ctx, "echo hi")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "the login shell on 127.0.0.1 did not start the command within ") ||
		!strings.Contains(err.Error(), "check the account's shell startup files") {
		t.Errorf("Run through a slow login shell: %v", err)
	}
}

// What a login shell's startup files print before the command starts is
// not the command's output.
func TestStartupNoiseIsNotOutput(t *testing.T) {
	s := startServerWith(t, `ForceCommand echo noise from .bashrc; eval "$SSH_ORIGINAL_COMMAND"`)
	c := s.dial(s.clientConfig())
	out, err := c.Run(testContext(t, 30*time.Second), "echo hi")
	if err != nil || string(out) != "hi\n" {
		t.Errorf("Run = %q, %v; want \"hi\\n\"", out, err)
	}
}

// The tests log in as their own user, whose home has no shell startup
// files, not as whoever runs them: a root ~/.bashrc that blocks must not
// make them time out.
func TestLogsInAsTestUser(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	out, err := c.Run(testContext(t, 30*time.Second), `id -un; echo "$HOME"; ls -A "$HOME"`)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 || lines[0] != testUser || lines[1] != testUserHome {
		t.Fatalf("logged in as %q; want user %s with home %s", out, testUser, testUserHome)
	}
	for _, f := range lines[2:] {
		if strings.HasPrefix(f, ".") {
			t.Errorf("the test user's home holds %s, which no test wrote", f)
		}
	}
}
