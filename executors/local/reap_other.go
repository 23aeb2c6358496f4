//go:build unix && !linux

package local

import (
	"runtime"
	"syscall"
)

// reap waits for the group leader and collects its status. Without
// waitid(WNOWAIT) the leader is reaped first, so killing the group's
// leftovers afterwards is best effort.
func (p *proc) reap() (syscall.WaitStatus, syscall.Rusage, error) {
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	err := ignoringEINTR(func() error {
		_, err := syscall.Wait4(p.pid, &ws, 0, &ru)
		return err
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.signal(syscall.SIGKILL)
	}
	p.retire()
	return ws, ru, err
}

// maxRSSKiB: the BSDs report ru_maxrss in KiB, macOS in bytes.
func maxRSSKiB(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) / 1024
	}
	return int64(ru.Maxrss)
}
