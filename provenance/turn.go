package provenance

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// Every flow process takes its turn at the database through a blocking
// flock on a lock file beside it, before bbolt takes its own lock. bbolt
// polls for its lock every 50ms, so a process that lets go and opens again
// within microseconds (as a busy run does) could keep a polling one out for
// ever; a blocked flock is woken the moment the holder lets go.

// takeTurn waits up to timeout (negative: for ever) for this process's
// turn at the database at path and returns the function that ends it.
// Readers share their turn, as they share bbolt's lock.
func takeTurn(path string, timeout time.Duration, readOnly bool) (func(), error) {
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the lock file of the provenance database %s: %w", path, err)
	}
	got := make(chan error, 1)
	how := syscall.LOCK_EX
	if readOnly {
		how = syscall.LOCK_SH
	}
	go func() { got <- flock(f, how) }()
	var expired <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cannot lock the provenance database %s: %w", path, err)
		}
		return func() {
			_ = flock(f, syscall.LOCK_UN)
			f.Close()
		}, nil
	case <-expired:
		go func() { // the blocked flock cannot be called off: end it when it returns
			if <-got == nil {
				_ = flock(f, syscall.LOCK_UN)
			}
			f.Close()
		}()
		return nil, fmt.Errorf("the database %s is in use by another flow process (waited %s for its lock): %w", path, timeout, ErrLocked)
	}
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
