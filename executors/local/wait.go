package local

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flow-cwl/flow/executors"
)

// Wait blocks until the task's process exits, then returns its Result and
// gives back its resources. When ctx ends first, the task is stopped
// (SIGTERM, then SIGKILL after the grace period) and Wait returns its
// Result with an error wrapping ctx.Err().
func (e *Executor) Wait(ctx context.Context, h *executors.Handle) (executors.Result, error) {
	p, err := e.claim(h)
	if err != nil {
		return executors.Result{}, err
	}
	defer e.forget(p)
	if ctx.Done() != nil {
		// No goroutine: the callback runs only if ctx ends.
		defer context.AfterFunc(ctx, func() { p.terminate(stopContext) })()
	}

	var res executors.Result
	if p.recovered {
		res, err = e.waitRecovered(p)
	} else {
		res, err = p.waitChild()
	}
	res.TimedOut = p.stopped() == stopTimeLimit
	if p.stopped() == stopContext {
		err = fmt.Errorf("task %q was stopped because its caller gave up: %w", p.id, ctx.Err())
	}
	e.log.Debug().Str("job", p.id).Int("pid", p.pid).Int("exit_code", res.ExitCode).
		Str("signal", res.Signal).Bool("timed_out", res.TimedOut).Err(err).Msg("task finished")
	return res, err
}

// claim finds the task h names and marks it as waited for, so that a
// second Wait fails instead of racing the first.
func (e *Executor) claim(h *executors.Handle) (*proc, error) {
	p, err := e.lookup(h)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if p.waiting {
		return nil, fmt.Errorf("task %q is already being waited for; a task is waited for once", h.TaskID)
	}
	p.waiting = true
	return p, nil
}

// waitChild waits for a process flow started, and reaps it.
func (p *proc) waitChild() (executors.Result, error) {
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	var err error
	if p.nsTask != nil {
		ws, ru, err = p.ns.wait(p.nsTask)
		p.mu.Lock()
		p.retire()
		p.mu.Unlock()
	} else {
		ws, ru, err = p.reap()
	}
	res := executors.Result{Started: p.started, Finished: time.Now()}
	if err != nil {
		// Someone else reaped it, or waitid failed: the pid is no longer
		// known to be ours, so it must not be signalled again.
		p.mu.Lock()
		p.retire()
		p.mu.Unlock()
		res.ExitCode = -1
		p.fileTail()
		p.finishTail()
		return res, fmt.Errorf("lost track of task %q (pid %d): %v: %w", p.id, p.pid, err, executors.ErrLost)
	}
	if ws.Signaled() {
		res.ExitCode = -1
		res.Signal = unix.SignalName(ws.Signal())
	} else {
		res.ExitCode = ws.ExitStatus()
	}
	res.MaxRSSKiB = maxRSSKiB(&ru)
	res.UserCPU = time.Duration(ru.Utime.Nano())
	res.SysCPU = time.Duration(ru.Stime.Nano())
	res.StderrTail = p.fileTail() + p.finishTail() // at most one is set
	return res, nil
}

// ignoringEINTR retries a system call that a signal interrupted.
func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
