//go:build !linux

package local

import "syscall"

// sysProcAttr puts a task in its own process group, so it can be stopped
// as a whole.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
