package local

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flow-cwl/flow/executors"
)

// Recover adopts a task started by an earlier instance of this executor,
// if its process is still running: same machine boot, same pid, same start
// time. Its resources count against this executor's budget and its time
// limit, if any, still applies. A process that is gone yields ErrLost.
func (e *Executor) Recover(ctx context.Context, h *executors.Handle) error {
	if h.Executor != Name {
		return fmt.Errorf("task %q was started by the %q executor, not by %q", h.TaskID, h.Executor, Name)
	}
	if e.bootID == "" {
		return fmt.Errorf("cannot recover task %q: processes cannot be recognised on this system: %w", h.TaskID, executors.ErrUnsupported)
	}
	var s taskState
	if err := json.Unmarshal(h.State, &s); err != nil {
		return fmt.Errorf("cannot recover task %q: its handle's state is not what the local executor writes: %w", h.TaskID, err)
	}
	if s.BootID != e.bootID {
		return fmt.Errorf("task %q (pid %d) was started before this machine last rebooted: %w", h.TaskID, h.PID, executors.ErrLost)
	}
	if !sameProcess(h.PID, s.StartTicks) {
		return fmt.Errorf("task %q (pid %d) is no longer running: %w", h.TaskID, h.PID, executors.ErrLost)
	}
	if err := e.reserve(h.TaskID); err != nil {
		return err
	}
	p := &proc{
		id:         h.TaskID,
		pid:        h.PID,
		startTicks: s.StartTicks,
		started:    s.Started,
		grace:      e.opts.KillGrace,
		recovered:  true,
	}
	p.need, _ = e.pool.clamp(demand(s.Resources))
	e.pool.force(p.need)
	if !s.Deadline.IsZero() {
		p.mu.Lock()
		p.limit = time.AfterFunc(time.Until(s.Deadline), func() { p.terminate(stopTimeLimit) })
		p.mu.Unlock()
	}
	e.mu.Lock()
	e.procs[h.TaskID] = p
	e.mu.Unlock()
	e.log.Info().Str("job", h.TaskID).Int("pid", h.PID).Msg("re-attached to a running task")
	return nil
}

// waitRecovered polls /proc until an adopted process is gone. It is not
// our child, so its exit status went to someone else: the result is
// ErrLost, whatever the process did.
func (e *Executor) waitRecovered(p *proc) (executors.Result, error) {
	tick := time.NewTicker(e.opts.PollInterval)
	defer tick.Stop()
	for sameProcess(p.pid, p.startTicks) {
		<-tick.C
	}
	p.mu.Lock()
	p.retire()
	p.mu.Unlock()
	res := executors.Result{ExitCode: -1, Started: p.started, Finished: time.Now()}
	return res, fmt.Errorf("task %q (pid %d) ended while flow was not its parent, so how it ended is unknown: %w",
		p.id, p.pid, executors.ErrLost)
}
