package slurm

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flow-cwl/flow/executors"
)

// stopTimeout is how long Wait, after its ctx ended and it cancelled the
// job, waits for Slurm to report the job gone.
const stopTimeout = time.Minute

// Wait blocks until the poller learns how the task ended. When ctx ends
// first, the job is cancelled (scancel) and Wait waits for it to go, then
// returns its Result with an error wrapping ctx.Err().
func (e *Executor) Wait(ctx context.Context, h *executors.Handle) (executors.Result, error) {
	j, err := e.claim(h)
	if err != nil {
		return executors.Result{}, err
	}
	defer e.forget(j)
	select {
	case <-j.done:
		return j.res, j.err
	case <-ctx.Done():
	}
	bg, cancel := e.background(ctx)
	defer cancel()
	if err := e.cancelJob(bg, j); err != nil {
		return executors.Result{ExitCode: -1}, fmt.Errorf("task %q was to be stopped because its caller gave up (%w), but: %v", j.taskID, ctx.Err(), err)
	}
	select {
	case <-j.done:
		return j.res, fmt.Errorf("task %q was stopped because its caller gave up: %w", j.taskID, ctx.Err())
	case <-time.After(stopTimeout):
		return executors.Result{ExitCode: -1}, fmt.Errorf("task %q (Slurm job %s) was cancelled because its caller gave up (%w), but Slurm did not report it gone within %v",
			j.taskID, j.st.JobID, ctx.Err(), stopTimeout)
	}
}

// claim finds the job h names and marks it as waited for, so that a
// second Wait fails instead of racing the first.
func (e *Executor) claim(h *executors.Handle) (*job, error) {
	j, err := e.lookup(h)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if j.waiting {
		return nil, fmt.Errorf("task %q is already being waited for; a task is waited for once", h.TaskID)
	}
	j.waiting = true
	return j, nil
}

// Cancel asks Slurm to stop the job (scancel: SIGTERM to all its
// processes, SIGKILL after the cluster's KillWait). It does not wait; Wait
// reports the outcome. Cancel of a job that already ended does nothing.
func (e *Executor) Cancel(ctx context.Context, h *executors.Handle) error {
	j, err := e.lookup(h)
	if err != nil {
		return err
	}
	return e.cancelJob(ctx, j)
}

func (e *Executor) cancelJob(ctx context.Context, j *job) error {
	select {
	case <-j.done:
		return nil
	default:
	}
	e.log.Debug().Str("job", j.st.JobID).Str("task", j.taskID).Msg("cancelling")
	if err := e.scancel(ctx, j.st.JobID); err != nil {
		return err
	}
	e.mu.Lock()
	j.cancelled = true
	e.mu.Unlock()
	return nil
}

// Recover re-attaches to a job submitted by an earlier executor, from the
// job id and files recorded in h. The job counts as there if squeue still
// shows it, its exit file exists, or sacct knows how Slurm ended it;
// otherwise Recover fails with ErrLost. A recovered job is followed by the
// poller like any other; Wait and Cancel work on h.
func (e *Executor) Recover(ctx context.Context, h *executors.Handle) error {
	if h.Executor != Name {
		return fmt.Errorf("task %q was started by the %q executor, not by %q", h.TaskID, h.Executor, Name)
	}
	var st jobState
	if err := json.Unmarshal(h.State, &st); err != nil || st.Version != stateVersion {
		return fmt.Errorf("cannot recover task %q: its handle's state is not what this Slurm executor writes (%v)", h.TaskID, err)
	}
	if st.JobID != h.JobID || !validJobID.MatchString(h.JobID) {
		return fmt.Errorf("cannot recover task %q: its handle names the Slurm job %q, which is not a job id flow submitted", h.TaskID, h.JobID)
	}
	if _, err := e.lookup(h); err == nil {
		return nil // already followed
	}
	probe := &job{taskID: h.TaskID, st: st}
	found, err := e.probe(ctx, probe)
	if err != nil {
		return fmt.Errorf("cannot recover task %q (Slurm job %s): %w", h.TaskID, h.JobID, err)
	}
	if !found {
		return fmt.Errorf("task %q (Slurm job %s) is no longer known to Slurm and left no exit file: %w", h.TaskID, h.JobID, executors.ErrLost)
	}
	j := e.track(h.TaskID, st)
	e.mu.Lock()
	j.status = probe.status
	e.mu.Unlock()
	e.log.Debug().Str("job", h.JobID).Str("task", h.TaskID).Str("state", probe.status.State).Msg("recovered")
	return nil
}

// probe asks squeue, then the exit file, then sacct, whether a job is
// still something to wait for.
func (e *Executor) probe(ctx context.Context, j *job) (bool, error) {
	jobs := []*job{j}
	statuses, err := e.squeue(ctx, jobs)
	if err != nil {
		return false, err
	}
	if st, ok := statuses[j.st.JobID]; ok {
		j.status = st
		return true, nil
	}
	infos, err := e.readExits(ctx, jobs)
	if err != nil {
		return false, err
	}
	if infos[0].line != "" {
		return true, nil
	}
	acct, err := e.sacct(ctx, jobs)
	if err != nil {
		return false, err
	}
	st, ok := acct[j.st.JobID]
	j.status = st
	return ok && terminal(st.State), nil
}
