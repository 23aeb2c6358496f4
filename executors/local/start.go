package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/flow-cwl/flow/executors"
)

// Start waits for room on this machine (as long as ctx allows), then starts
// the task in a process group of its own and returns its handle. A command
// that cannot be found fails at once, without waiting for room.
func (e *Executor) Start(ctx context.Context, t *executors.Task) (*executors.Handle, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("task %q was not started: %w", t.ID, err)
	}
	path, err := e.lookPath(t)
	if err != nil {
		return nil, err
	}
	if err := e.reserve(t.ID); err != nil {
		return nil, err
	}
	need := e.admissionFor(t)
	if err := e.pool.acquire(ctx, need); err != nil {
		e.unreserve(t.ID)
		return nil, fmt.Errorf("task %q was still waiting for room to run: %w", t.ID, err)
	}
	p, err := e.spawn(t, path, need)
	if err != nil {
		e.unreserve(t.ID)
		e.pool.release(need)
		return nil, err
	}
	e.mu.Lock()
	e.procs[t.ID] = p
	e.mu.Unlock()
	e.log.Debug().Str("job", t.ID).Int("pid", p.pid).Msg("task started")
	return &executors.Handle{Executor: Name, TaskID: t.ID, PID: p.pid, State: e.state(p, t)}, nil
}

// reserve claims a task id for the duration of Start, so that two tasks
// with one id cannot run at once.
func (e *Executor) reserve(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.procs[id]; ok {
		return fmt.Errorf("task %q is already running under this executor; task ids must be unique", id)
	}
	e.procs[id] = nil
	return nil
}

func (e *Executor) unreserve(id string) {
	e.mu.Lock()
	delete(e.procs, id)
	e.mu.Unlock()
}

// admissionFor turns a task's resources into what it takes from the pool,
// warning about a task that can only ever run alone.
func (e *Executor) admissionFor(t *executors.Task) amount {
	need, over := e.pool.clamp(demand(t.Resources))
	if over {
		e.log.Warn().Str("job", t.ID).Float64("cores", t.Resources.Cores).Int64("ram_mib", t.Resources.RAMMiB).
			Float64("machine_cores", e.opts.Cores).Int64("machine_ram_mib", e.opts.RAMMiB).
			Msg("task asks for more than this machine has; it will run alone")
	}
	return need
}

// demand is what a task's resources take from the pool: a task that
// states no cores counts as one.
func demand(r executors.Resources) amount {
	cores := r.Cores
	if cores == 0 {
		cores = 1
	}
	return amount{milliCores: toMilli(cores), ramMiB: r.RAMMiB}
}

// spawn opens the task's files and starts its process: through the init
// of the executor's PID namespace, or else as flow's own child.
func (e *Executor) spawn(t *executors.Task, path string, need amount) (*proc, error) {
	fds, err := e.openStdio(t)
	if err != nil {
		return nil, err
	}
	p := &proc{
		id:         t.ID,
		need:       need,
		grace:      e.opts.KillGrace,
		stderrFile: fds.keep,
		tail:       fds.tail,
		tailDone:   fds.tailDone,
		tailPipe:   fds.tailPipe,
	}
	p.started = time.Now()
	if ns := e.namespaceFor(); ns != nil {
		err = p.startInNamespace(ns, t, path, fds)
	} else {
		err = p.startChild(t, path, fds, e.bootID != "")
	}
	fds.closeChildSide()
	if err != nil {
		fds.abandon()
		return nil, startError(t, path, err)
	}
	if t.TimeLimit > 0 {
		p.mu.Lock()
		p.limit = time.AfterFunc(t.TimeLimit, func() { p.terminate(stopTimeLimit) })
		p.mu.Unlock()
	}
	return p, nil
}

// startChild starts the task as flow's own child.
func (p *proc) startChild(t *executors.Task, path string, fds *stdio, recognisable bool) error {
	attr := &syscall.ProcAttr{
		Dir:   t.Dir,
		Env:   environ(t.Env),
		Files: []uintptr{fds.stdin.Fd(), fds.stdout.Fd(), fds.stderr.Fd()},
		Sys:   sysProcAttr(),
	}
	pid, _, err := syscall.StartProcess(path, t.Argv, attr)
	runtime.KeepAlive(fds)
	if err != nil {
		return err
	}
	p.pid = pid
	if recognisable {
		// The process is ours and not yet reaped, so its /proc entry is there.
		p.startTicks, _ = processStartTicks(pid)
	}
	return nil
}

// environ turns the task's environment into execve form. Nothing of flow's
// own environment is added.
func environ(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// startError explains why a process could not be started. Errors that mean
// "this command cannot run here" wrap ErrNotFound, so the engine does not
// retry them; a missing working directory is reported as what it is,
// because execve and chdir fail with the same errno.
func startError(t *executors.Task, path string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("task %q could not start %q: %w", t.ID, t.Argv[0], err)
	}
	if errno == syscall.ENOENT || errno == syscall.ENOTDIR || errno == syscall.EACCES {
		if st, serr := os.Stat(t.Dir); serr != nil || !st.IsDir() {
			return fmt.Errorf("task %q cannot run in %q: the working directory does not exist", t.ID, t.Dir)
		}
	}
	switch errno {
	case syscall.ENOENT, syscall.ENOTDIR:
		return notFound("task %q cannot run %q: %s does not exist, or names a script whose interpreter does not", t.ID, t.Argv[0], path)
	case syscall.EACCES, syscall.ENOEXEC, syscall.EISDIR:
		return notFound("task %q cannot run %q: %s is not an executable program (%v)", t.ID, t.Argv[0], path, errno)
	}
	return fmt.Errorf("task %q could not start %q: %w", t.ID, t.Argv[0], err)
}

// taskState is what Handle.State holds: enough to recognise the process
// after a restart, and to account for it and enforce its time limit.
type taskState struct {
	BootID     string              `json:"boot_id"`
	StartTicks uint64              `json:"start_ticks"`
	Started    time.Time           `json:"started"`
	Deadline   time.Time           `json:"deadline,omitzero"`
	Resources  executors.Resources `json:"resources"`
}

func (e *Executor) state(p *proc, t *executors.Task) []byte {
	s := taskState{BootID: e.bootID, StartTicks: p.startTicks, Started: p.started, Resources: t.Resources}
	if t.TimeLimit > 0 {
		s.Deadline = p.started.Add(t.TimeLimit)
	}
	b, _ := json.Marshal(s) // cannot fail: plain fields only
	return b
}
