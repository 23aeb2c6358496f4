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
//
// A process that has to wait for its turn says so by holding a shared lock
// on a second file (".wait") while it waits. The holder probes that file
// (othersWaiting) to learn whether anyone is waiting, so a busy run keeps
// the database open while it has it to itself and lets go soon after
// another process asks.

// takeTurn waits up to timeout (negative: for ever) for this process's
// turn at the database at path and returns the function that ends it.
// Readers share their turn, as they share bbolt's lock.
func takeTurn(path string, timeout time.Duration, readOnly bool) (func(), error) {
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the lock file of the provenance database %s: %w", path, err)
	}
	how := syscall.LOCK_EX
	if readOnly {
		how = syscall.LOCK_SH
	}
	end := func() {
		_ = flock(f, syscall.LOCK_UN)
		f.Close()
	}
	if flock(f, how|syscall.LOCK_NB) == nil {
		return end, nil // nobody had it
	}
	stopWaiting := markWaiting(path)
	defer stopWaiting()
	got := make(chan error, 1)
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
		return end, nil
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

// markWaiting holds a shared lock on the database's wait file until the
// returned function is called. Failing to is no error: the holder then
// lets go after HoldAtMost only when it next pauses.
func markWaiting(path string) func() {
	w, err := os.OpenFile(path+".wait", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return func() {}
	}
	if flock(w, syscall.LOCK_SH) != nil {
		w.Close()
		return func() {}
	}
	return func() {
		_ = flock(w, syscall.LOCK_UN)
		w.Close()
	}
}

// othersWaiting reports whether another process is waiting for its turn
// at the database at path: whether anyone holds the wait file's shared
// lock, which an exclusive lock that does not block finds out.
func othersWaiting(path string) bool {
	w, err := os.OpenFile(path+".wait", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return true // cannot tell: be fair
	}
	defer w.Close()
	if flock(w, syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return true
	}
	_ = flock(w, syscall.LOCK_UN)
	return false
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
