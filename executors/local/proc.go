package local

import (
	"os"
	"sync"
	"syscall"
	"time"
)

// stopReason says why flow stopped a task, if it did.
type stopReason int

const (
	stopNone      stopReason = iota
	stopCancel               // Cancel was called
	stopContext              // Wait's ctx ended
	stopTimeLimit            // the task ran past Task.TimeLimit
)

// proc is one running task: its process group and what Wait needs to
// report on it.
type proc struct {
	id         string
	pid        int // also the process group id
	startTicks uint64
	need       amount
	started    time.Time
	grace      time.Duration
	recovered  bool // not our child: adopted by Recover

	// A task in the executor's PID namespace is the init's child, not
	// flow's: the init signals and reaps it.
	ns     *jobNamespace
	nsTask *nsTask

	stderrFile *os.File // the task's stderr file, kept open to read its tail
	tail       *tailBuf // stderr tail when stderr goes nowhere, fed by a pipe
	tailDone   chan struct{}
	tailPipe   *os.File

	waiting bool // a Wait has claimed this task; guarded by Executor.mu

	mu        sync.Mutex
	exited    bool // the leader has exited; its pid must not be signalled again
	stop      stopReason
	limit     *time.Timer // fires stopTimeLimit
	killTimer *time.Timer // escalates SIGTERM to SIGKILL
}

// terminate starts stopping the task, for the first reason given: SIGTERM
// to the group now, SIGKILL after the grace period. Later calls, and calls
// after the task exited, do nothing.
func (p *proc) terminate(why stopReason) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited || p.stop != stopNone {
		return
	}
	p.stop = why
	p.signal(syscall.SIGTERM)
	p.killTimer = time.AfterFunc(p.grace, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.exited {
			p.signal(syscall.SIGKILL)
		}
	})
}

// signal sends sig to the whole group. Callers hold p.mu and have checked
// p.exited, so for a child the pid cannot have been reused: it is reaped
// only under p.mu. The init of the PID namespace makes the same check for
// its children. A recovered process is not our child, so its identity is
// checked against /proc first.
func (p *proc) signal(sig syscall.Signal) {
	if p.nsTask != nil {
		p.ns.signal(p.nsTask, sig)
		return
	}
	if p.recovered && !sameProcess(p.pid, p.startTicks) {
		return
	}
	// ESRCH (the group is already gone) is the only likely error, and fine.
	_ = syscall.Kill(-p.pid, sig)
}

// retire records that the leader is gone, so nothing signals its pid
// again, and stops the timers. The caller holds p.mu.
func (p *proc) retire() {
	if p.limit != nil {
		p.limit.Stop()
	}
	if p.killTimer != nil {
		p.killTimer.Stop()
	}
	p.exited = true
}

// stopped reads p.stop.
func (p *proc) stopped() stopReason {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stop
}
