package local

import "syscall"

// sysProcAttr puts a task in its own process group (so it can be stopped
// as a whole) and has the kernel kill it if flow dies first: a task whose
// flow is gone can never be collected, and a resumed run starts it again.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
