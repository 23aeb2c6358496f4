package remote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// Sessions are what a stock sshd rations: MaxSessions (10 by default) per
// connection, counted until the server has processed each session's close.
// The client keeps below the limit (Config.MaxSessions), but a session it
// just closed may still count on the server for a moment, and another
// program may share the limit through a ControlMaster. So a refused open
// is retried after a pause, never failed at once.

const (
	refusedStart = 50 * time.Millisecond
	refusedCap   = 2 * time.Second
	// refusedWait bounds how long one call waits for the server to take a
	// session, so that a server configured with MaxSessions 0 (or a limit
	// below ours that never frees) is reported rather than waited on.
	refusedWait = 2 * time.Minute
)

// newSession opens a session on l, retrying while the server refuses it.
func (c *Client) newSession(ctx context.Context, l *link) (*ssh.Session, error) {
	var sess *ssh.Session
	err := c.retryRefused(ctx, func() (err error) {
		sess, err = l.ssh.NewSession()
		return err
	})
	if err != nil {
		return nil, c.classify(l, fmt.Errorf("cannot open an SSH session: %w", err))
	}
	return sess, nil
}

// retryRefused calls open until it succeeds or fails for another reason
// than the server refusing a channel, with capped exponential backoff,
// for at most refusedWait and never past ctx.
func (c *Client) retryRefused(ctx context.Context, open func() error) error {
	delay := refusedStart
	deadline := time.Now().Add(refusedWait)
	for attempt := 1; ; attempt++ {
		err := open()
		if err == nil || !refused(err) {
			return err
		}
		c.refusals.Add(1)
		if time.Now().After(deadline) {
			return fmt.Errorf("the server kept refusing new sessions for %s (is its MaxSessions below the cluster's max_sessions?): %w", refusedWait, err)
		}
		c.log.Debug().Err(err).Int("attempt", attempt).Dur("retry_in", delay).Msg("the server refused a session; retrying")
		if serr := sleep(ctx, delay); serr != nil {
			return fmt.Errorf("%w (while the server refused new sessions: %v)", serr, err)
		}
		delay = min(2*delay, refusedCap)
	}
}

// refused reports whether err is the server declining to open a channel
// for a reason that passes: OpenSSH says "open failed" (ConnectionFailed)
// when MaxSessions is reached, and some servers say administratively
// prohibited.
func refused(err error) bool {
	var oe *ssh.OpenChannelError
	return errors.As(err, &oe) && (oe.Reason == ssh.ConnectionFailed || oe.Reason == ssh.Prohibited || oe.Reason == ssh.ResourceShortage)
}
