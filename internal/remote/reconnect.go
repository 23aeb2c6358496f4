package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// ErrDisconnected is wrapped by the error of a call that was in flight when
// the connection dropped, and by the error of a call that could not get a
// connection back. The call may or may not have had its effect on the
// cluster; callers retry only what is safe to repeat (see Retry).
var ErrDisconnected = errors.New("the SSH connection was lost")

const (
	backoffStart = 200 * time.Millisecond
	backoffCap   = 5 * time.Second
	// redialAttempts bounds how long one call waits for the cluster to come
	// back (about 20s with the backoff above), so that a call with no
	// deadline does not hang forever on a dead cluster.
	redialAttempts = 8
	retryAttempts  = 5
	// linkGrace is how long a call that failed with an error that smells of
	// a dead link waits for the link to be declared dead.
	linkGrace = time.Second
)

// link is one SSH connection. A Client replaces its link when it dies; the
// link itself never comes back.
type link struct {
	ssh     *ssh.Client
	gen     uint64
	done    chan struct{} // closed once the connection is gone
	closing atomic.Bool   // closed on purpose, by Close

	sftpMu sync.Mutex
	sftp   *sftp.Client
}

func newLink(sc *ssh.Client) *link {
	l := &link{ssh: sc, done: make(chan struct{})}
	go func() {
		_ = sc.Wait()
		close(l.done)
	}()
	return l
}

func (l *link) dead() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// waitDead reports whether the link dies within d.
func (l *link) waitDead(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.done:
		return true
	case <-t.C:
		return false
	}
}

func (l *link) close() error {
	l.closing.Store(true)
	l.sftpMu.Lock()
	if l.sftp != nil {
		_ = l.sftp.Close()
	}
	l.sftpMu.Unlock()
	return l.ssh.Close()
}

// link returns a live connection, redialling if the current one died.
// Only one caller redials at a time; the others wait for its result.
func (c *Client) link(ctx context.Context) (*link, error) {
	select {
	case c.dialSlot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.dialSlot }()

	c.mu.Lock()
	l, closed := c.cur, c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if l != nil && !l.dead() {
		return l, nil
	}
	if l != nil {
		c.log.Warn().Uint64("link", l.gen).Msg("the SSH connection was lost; reconnecting")
	}
	l, err := c.redial(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed { // Close ran while we dialled
		_ = l.close()
		return nil, ErrClosed
	}
	c.cur = l
	return l, nil
}

// redial tries to connect with capped exponential backoff. It gives up at
// once on errors that waiting cannot fix (host key, login).
func (c *Client) redial(ctx context.Context) (*link, error) {
	delay := backoffStart
	var last error
	for attempt := 1; attempt <= redialAttempts; attempt++ {
		l, err := c.connect(ctx)
		if err == nil {
			c.log.Info().Int("attempt", attempt).Msg("reconnected")
			return l, nil
		}
		if permanent(err) {
			return nil, err
		}
		last = err
		c.log.Debug().Err(err).Int("attempt", attempt).Dur("retry_in", delay).Msg("reconnect failed")
		if err := sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("gave up reconnecting to %s (%w); last error: %w", c.addr, err, last)
		}
		delay = min(2*delay, backoffCap)
	}
	return nil, fmt.Errorf("cannot reconnect to %s after %d attempts: %w: %w", c.addr, redialAttempts, ErrDisconnected, last)
}

// Retry calls fn until it returns an error that does not wrap
// ErrDisconnected, with backoff between attempts, at most a few times and
// never past ctx. Use it only for calls that are safe to repeat.
func (c *Client) Retry(ctx context.Context, fn func() error) error {
	delay := backoffStart
	var err error
	for attempt := 1; ; attempt++ {
		err = fn()
		if !errors.Is(err, ErrDisconnected) || attempt == retryAttempts {
			return err
		}
		c.log.Debug().Err(err).Int("attempt", attempt).Msg("retrying after a lost connection")
		if serr := sleep(ctx, delay); serr != nil {
			return err
		}
		delay = min(2*delay, backoffCap)
	}
}

// classify wraps err with ErrDisconnected when the call failed because l
// died. Errors that look like a broken link get a short grace period: the
// call may notice the broken socket before the connection's reader does.
func (c *Client) classify(l *link, err error) error {
	if err == nil {
		return nil
	}
	if l.dead() || (looksLikeLinkError(err) && l.waitDead(linkGrace)) {
		return &disconnectedError{addr: c.addr, err: err}
	}
	return err
}

// disconnectedError is a call's error when the link died under it; it
// matches both ErrDisconnected and the error the call saw.
type disconnectedError struct {
	addr string
	err  error
}

func (e *disconnectedError) Error() string {
	return fmt.Sprintf("the SSH connection to %s was lost during the call: %v", e.addr, e.err)
}

func (e *disconnectedError) Unwrap() []error { return []error{ErrDisconnected, e.err} }

func looksLikeLinkError(err error) bool {
	var missing *ssh.ExitMissingError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, sftp.ErrSSHFxConnectionLost) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &missing)
}

// permanent reports whether a dial error will not go away by waiting.
func permanent(err error) bool {
	var hk *HostKeyError
	return errors.As(err, &hk) || isAuthError(err)
}

// isAuthError recognises a failed login. The ssh package has no error type
// for it, only this message.
func isAuthError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "ssh: unable to authenticate")
}

// keepalive pings the server on a ticker while l lives. A ping that fails
// or goes unanswered for three intervals closes the link: calls in flight
// then fail with ErrDisconnected and the next call redials.
func (c *Client) keepalive(l *link) {
	t := time.NewTicker(c.cfg.Keepalive)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		if err := ping(l, 3*c.cfg.Keepalive); err != nil {
			if l.closing.Load() {
				return
			}
			c.log.Warn().Err(err).Uint64("link", l.gen).Msg("keepalive failed; closing the connection")
			_ = l.ssh.Close()
			return
		}
		c.keepalives.Add(1)
	}
}

// ping sends one keepalive@openssh.com request and waits for any reply
// (servers answer "unknown request", which is as good as any).
func ping(l *link, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		_, _, err := l.ssh.SendRequest("keepalive@openssh.com", true, nil)
		errc <- err
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-errc:
		return err
	case <-t.C:
		return fmt.Errorf("no reply to a keepalive within %s", timeout)
	case <-l.done:
		return ErrDisconnected
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
