package remote

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestKeepalive(t *testing.T) {
	s := startServer(t)
	cfg := s.clientConfig()
	cfg.Keepalive = 100 * time.Millisecond
	c := s.dial(cfg)
	time.Sleep(600 * time.Millisecond)
	if n := c.keepalives.Load(); n < 3 {
		t.Errorf("%d keepalives answered in 600ms at a 100ms interval, want at least 3", n)
	}
}

// A server that stops answering without closing the socket (a hung node, a
// dropped route) is only noticed by keepalives: they must close the link,
// so a call in flight fails with ErrDisconnected instead of hanging.
func TestKeepaliveDetectsSilentServer(t *testing.T) {
	s := startServer(t)
	cfg := s.clientConfig()
	cfg.Keepalive = 200 * time.Millisecond
	c := s.dial(cfg)
	ctx := testContext(t, 30*time.Second)

	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, "sleep 20")
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	s.signal(syscall.SIGSTOP)
	t.Cleanup(func() { s.signal(syscall.SIGCONT) })

	select {
	case err := <-errc:
		if !errors.Is(err, ErrDisconnected) {
			t.Errorf("in-flight Run returned %v, want ErrDisconnected", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight Run still hangs 10s after the server stopped answering")
	}
}

// TestReconnect kills the server under a running command, as a crashed login
// node would, and brings it back on the same port with the same host key.
func TestReconnect(t *testing.T) {
	s := startServer(t)
	cfg := s.clientConfig()
	cfg.Keepalive = time.Second
	c := s.dial(cfg)
	ctx := testContext(t, 60*time.Second)
	if _, err := c.Stat(ctx, "/"); err != nil { // opens the SFTP session too
		t.Fatal(err)
	}

	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, "sleep 30")
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	s.stop()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("in-flight Run returned %v, want ErrDisconnected", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight Run did not return after the server died")
	}

	// The next call waits, with backoff, for the server to come back.
	restarted := make(chan error, 1)
	go func() {
		time.Sleep(700 * time.Millisecond)
		restarted <- s.restart()
	}()
	out, err := c.Run(ctx, "echo back")
	if rerr := <-restarted; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil || string(out) != "back\n" {
		t.Fatalf("Run after the server came back: %q, %v", out, err)
	}
	if n := c.dials.Load(); n < 3 {
		t.Errorf("dials = %d, want the first dial plus at least one failed and one good redial", n)
	}
	// SFTP comes back on the new connection as well.
	if _, err := c.Stat(ctx, "/"); err != nil {
		t.Errorf("Stat after reconnect: %v", err)
	}
}

// Retry repeats a call that lost its connection once the link is back.
func TestRetryRepeatsIdempotentCalls(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 60*time.Second)
	restarted := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		s.stop()
		time.Sleep(300 * time.Millisecond)
		restarted <- s.restart()
	}()

	var errs []error
	err := c.Retry(ctx, func() error {
		_, err := c.Run(ctx, "sleep 1.5; echo done")
		errs = append(errs, err)
		return err
	})
	if rerr := <-restarted; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatalf("Retry: %v (attempts: %v)", err, errs)
	}
	if len(errs) != 2 || !errors.Is(errs[0], ErrDisconnected) {
		t.Errorf("attempts returned %v; want ErrDisconnected, then success", errs)
	}

	// Errors other than a lost connection are not retried.
	calls := 0
	err = c.Retry(ctx, func() error {
		calls++
		_, err := c.Run(ctx, "exit 7")
		return err
	})
	var ee *ExitError
	if !errors.As(err, &ee) || calls != 1 {
		t.Errorf("Retry of a failing command: %v after %d calls, want the ExitError after 1", err, calls)
	}
}

// A server that comes back with another host key must not be trusted: the
// reconnect fails at once with ErrHostKeyChanged instead of retrying.
func TestReconnectToChangedHostKeyRefused(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 30*time.Second)
	s.stop()
	writeKey(t, filepath.Join(s.dir, "host_key"), nil)
	if err := s.restart(); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	_, err := c.Run(ctx, "true")
	if !errors.Is(err, ErrHostKeyChanged) {
		t.Fatalf("Run against a server with a new host key: %v, want ErrHostKeyChanged", err)
	}
	// Retries would go on for about 20 s (the backoff in reconnect.go);
	// a refusal without them ends well before, however busy the machine.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("refusal took %s; a changed host key must not be retried", d)
	}
}
