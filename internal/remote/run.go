package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// stderrTail is how much of a failed command's stderr an ExitError keeps:
// enough for the error message, bounded for commands that print a lot.
const stderrTail = 4 << 10

// ExitError is returned by Run when the remote script exits non-zero.
type ExitError struct {
	Code   int    // exit status; 128+n when the script died of signal n
	Signal string // signal name (without SIG) when the script was killed
	Stderr string // the last few KiB of stderr
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("remote command exited with status %d", e.Code)
	if e.Signal != "" {
		msg = "remote command was killed by SIG" + e.Signal
	}
	if tail := strings.TrimSpace(e.Stderr); tail != "" {
		msg += ": " + tail
	}
	return msg
}

// runWrapper is the command every session executes; the script arrives on
// the session's stdin as its length in bytes, a newline and the script.
//
// The wrapper reads exactly that much and runs it in a background subshell
// whose stdin is /dev/null, so the script's commands cannot swallow
// anything. It then watches stdin, which the client keeps open: stdin ends
// only when the client cancels or the session goes away, and then, or on
// SIGTERM or SIGHUP, the trap kills the whole process group, grandchildren
// included. Signals alone would not do: sshd refuses to deliver them to
// sessions of root, and nothing is delivered at all when the link dies.
// exec keeps the wrapper at the pid sshd signals, as a group leader.
// Its first output, startMark, tells the client that the account's login
// shell has read its startup files and started the command.
var runWrapper = "exec bash -c " + shell.Quote(`printf '`+startMark+`'
exec 3<&0 </dev/null
trap 'trap - TERM; kill -TERM 0' TERM HUP
IFS= read -r __flow_n <&3 && __flow_s=$(head -c "$__flow_n" <&3) || exit 254
( eval "unset __flow_n __flow_s; $__flow_s" ) 3<&- &
__flow_p=$!
while IFS= read -r _ <&3; do :; done && kill -TERM $$ &
__flow_w=$!
wait $__flow_p; __flow_r=$?
kill $__flow_w 2>/dev/null
exit $__flow_r`)

// Run runs script with bash on the cluster and returns its stdout. The
// script is sent on stdin, never quoted into a command line, and its
// commands read /dev/null as stdin. A non-zero exit returns *ExitError.
// Cancelling ctx kills the script's processes and closes the session.
func (c *Client) Run(ctx context.Context, script string) ([]byte, error) {
	select {
	case c.sessions <- struct{}{}:
		defer func() { <-c.sessions }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	l, err := c.link(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := c.newSession(ctx, l)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	var stdout bytes.Buffer
	out := &markWriter{w: &stdout}
	stderr := &tailBuffer{max: stderrTail}
	sess.Stdout, sess.Stderr = out, stderr
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, c.classify(l, err)
	}
	if err := sess.Start(runWrapper); err != nil {
		return nil, c.classify(l, fmt.Errorf("cannot start bash on %s: %w", c.addr, err))
	}
	// stdin stays open after the script: closing it is how wait stops the
	// script. A write error means the session already ended, which Wait
	// reports better.
	go func() { _, _ = io.WriteString(stdin, strconv.Itoa(len(script))+"\n"+script) }()
	began := time.Now()
	err = wait(ctx, sess, stdin)
	if err != nil {
		if ctx.Err() != nil && !out.started() {
			return nil, fmt.Errorf("the login shell on %s did not start the command within %s; check the account's shell startup files (~/.bashrc, ~/.profile): %w",
				c.cfg.Host, time.Since(began).Round(100*time.Millisecond), ctx.Err())
		}
		return nil, c.runError(l, err, stderr.String())
	}
	out.flush()
	return stdout.Bytes(), nil
}

// startMark is the wrapper's first line on stdout (as printf writes it).
const startMark = `__flow_started__\n`

// markLine is startMark as it arrives.
var markLine = []byte("__flow_started__\n")

// markWriter passes stdout on from the line after startMark, and notes
// that the mark came. What a login shell's startup files print before
// the mark is not the command's output and is dropped; a session that
// never prints the mark (it failed before the wrapper ran) has all its
// output passed on by flush. The session writes from its own goroutine,
// which may outlive wait, hence the lock.
type markWriter struct {
	mu   sync.Mutex
	w    io.Writer
	seen bool
	buf  []byte
}

// maxBeforeMark bounds what is held back while waiting for the mark.
const maxBeforeMark = 64 << 10

func (m *markWriter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen {
		return m.w.Write(p)
	}
	m.buf = append(m.buf, p...)
	i := bytes.Index(m.buf, markLine)
	if i < 0 {
		if len(m.buf) > maxBeforeMark {
			m.flushLocked()
		}
		return len(p), nil
	}
	m.seen = true
	rest := m.buf[i+len(markLine):]
	m.buf = nil
	if _, err := m.w.Write(rest); err != nil {
		return 0, err
	}
	return len(p), nil
}

// started reports whether the mark came.
func (m *markWriter) started() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen
}

// flush hands on what was held back without a mark.
func (m *markWriter) flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.flushLocked()
}

func (m *markWriter) flushLocked() {
	if len(m.buf) > 0 {
		_, _ = m.w.Write(m.buf)
		m.buf = nil
	}
}

// wait waits for the session to end, or stops it when ctx ends: SIGTERM
// and the end of stdin make the wrapper kill the script; the channel is
// closed after a grace period whatever happened.
func wait(ctx context.Context, sess *ssh.Session, stdin io.Closer) error {
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	_ = sess.Signal(ssh.SIGTERM)
	_ = stdin.Close()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	_ = sess.Close()
	return fmt.Errorf("remote command stopped: %w", ctx.Err())
}

func (c *Client) runError(l *link, err error, stderr string) error {
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return &ExitError{Code: ee.ExitStatus(), Signal: ee.Signal(), Stderr: stderr}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return c.classify(l, fmt.Errorf("remote command on %s failed: %w", c.addr, err))
}

// Latency measures one round trip on the connection: a keepalive request,
// so it times the network and sshd, not process start-up.
func (c *Client) Latency(ctx context.Context) (time.Duration, error) {
	l, err := c.link(ctx)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		_, _, err := l.ssh.SendRequest("keepalive@openssh.com", true, nil)
		errc <- err
	}()
	select {
	case err = <-errc:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if err != nil {
		return 0, c.classify(l, err)
	}
	return time.Since(start), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
