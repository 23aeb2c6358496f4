package images

import (
	"context"
	"errors"
	"os"
	"syscall"
)

// lock takes an exclusive flock on path, creating the file if needed,
// and returns the function that releases it. flock locks belong to an
// open file description, so goroutines of one process exclude each other
// as surely as separate processes do, and the kernel drops the lock when
// a process dies, so a crashed pull never leaves the cache locked.
//
// flock cannot be interrupted by a context, so the blocking call runs in
// a goroutine; if ctx ends first, that goroutine releases the lock as
// soon as it gets it and closes the file.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	// Read-only is enough for flock, and lets every user of a shared
	// cache lock a file that one of them created.
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	got := make(chan error, 1)
	go func() { got <- flock(fd) }()
	release := func() {
		_ = syscall.Flock(fd, syscall.LOCK_UN)
		f.Close()
	}
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, err
		}
		return release, nil
	case <-ctx.Done():
		go func() {
			if <-got == nil {
				release()
				return
			}
			f.Close()
		}()
		return nil, ctx.Err()
	}
}

// flock takes an exclusive lock, retrying when a signal interrupts it.
func flock(fd int) error {
	for {
		err := flockSys(fd, syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// flockSys is syscall.Flock; tests replace it to act out file systems
// without locks.
var flockSys = syscall.Flock

// lockUnsupported reports whether err says the file system cannot lock
// at all, as opposed to a lock that could not be had.
func lockUnsupported(err error) bool {
	for _, e := range []error{syscall.ENOSYS, syscall.ENOTSUP, syscall.EOPNOTSUPP, syscall.ENOLCK, syscall.EINVAL} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
