package local

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reap waits for the group leader to exit and collects its status. It
// first waits without reaping (WNOWAIT): while the leader is a zombie its
// pid, which is also the group id, cannot be reused, so the leftovers of
// the group can be killed safely before wait4 frees the pid.
func (p *proc) reap() (syscall.WaitStatus, syscall.Rusage, error) {
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	var info unix.Siginfo
	err := ignoringEINTR(func() error {
		return unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
	})
	if err != nil {
		return ws, ru, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Whatever the task left running in its group goes with it, so a
	// finished task holds no CPU, memory or files.
	p.signal(syscall.SIGKILL)
	p.retire()
	err = ignoringEINTR(func() error {
		_, err := syscall.Wait4(p.pid, &ws, 0, &ru)
		return err
	})
	return ws, ru, err
}

// maxRSSKiB: Linux reports ru_maxrss in KiB.
func maxRSSKiB(ru *syscall.Rusage) int64 { return int64(ru.Maxrss) }
