package remote

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Against a stock sshd (MaxSessions 10), many commands and file transfers
// at once all succeed: the client stays under the limit and waits out a
// session the server still counts after its close.
func TestManyCallsAgainstStockMaxSessions(t *testing.T) {
	s := startServer(t) // no MaxSessions line: OpenSSH's default of 10
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 120*time.Second)
	dir := s.remoteDir()
	const n = 200
	errc := make(chan error, n)
	for i := range n {
		go func() {
			out, err := c.Run(ctx, fmt.Sprintf("echo %d > %s/f%d && echo %d", i, dir, i, i))
			if err == nil && string(out) != fmt.Sprintf("%d\n", i) {
				err = fmt.Errorf("stdout %q", out)
			}
			if err == nil {
				_, err = c.Stat(ctx, fmt.Sprintf("%s/f%d", dir, i))
			}
			errc <- err
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

// A server that allows fewer sessions than the client would open refuses
// the extra ones; the client retries them until sessions free up, so every
// command runs.
func TestRefusedSessionsAreRetried(t *testing.T) {
	s := startServerWith(t, "MaxSessions 2")
	cfg := s.clientConfig()
	cfg.MaxSessions = 6
	c := s.dial(cfg)
	ctx := testContext(t, 60*time.Second)
	errc := make(chan error, 6)
	for i := range 6 {
		go func() {
			out, err := c.Run(ctx, fmt.Sprintf("sleep 0.5; echo %d", i))
			if err == nil && string(out) != fmt.Sprintf("%d\n", i) {
				err = fmt.Errorf("stdout %q", out)
			}
			errc <- err
		}()
	}
	for range 6 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if c.refusals.Load() == 0 {
		t.Error("six commands at once against MaxSessions 2 were never refused; the test did not exercise the retry")
	}
}

// Waiting for a session the server will not give ends with the ctx.
func TestRefusedSessionWaitEndsWithContext(t *testing.T) {
	s := startServerWith(t, "MaxSessions 1")
	c := s.dial(s.clientConfig())
	hold := testContext(t, 30*time.Second)
	go func() { _, _ = c.Run(hold, "sleep 20") }()
	for try := 0; c.refusals.Load() == 0; try++ {
		if try == 50 {
			t.Fatal("with one command holding the only session, a second was never refused")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_, err := c.Run(ctx, "echo second")
		cancel()
		if err == nil {
			continue // the first command had not opened its session yet
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a refused session ended with %v, want the ctx's deadline", err)
		}
	}
}
