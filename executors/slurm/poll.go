package slurm

import (
	"context"
	"fmt"
	"time"

	"github.com/flow-cwl/flow/executors"
)

// missingGrace is how long a job that Slurm says is over may go without an
// exit file before flow gives up on it. On a shared file system the file
// can reach the login node a little after the job ends (NFS attribute
// caching).
const missingGrace = 10 * time.Second

// poll is the executor's one poller: every PollInterval it asks about all
// unfinished jobs at once, and it exits when none are left (track starts
// it again).
func (e *Executor) poll() {
	tick := time.NewTicker(e.opts.PollInterval)
	defer tick.Stop()
	for range tick.C {
		jobs := e.unfinished()
		if jobs == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), e.commandTimeout())
		e.pollOnce(ctx, jobs)
		cancel()
	}
}

// unfinished lists the jobs still to follow. When there are none it
// returns nil and marks the poller as stopped, under the same lock that
// track takes, so a job tracked meanwhile starts a new poller.
func (e *Executor) unfinished() []*job {
	e.mu.Lock()
	defer e.mu.Unlock()
	var jobs []*job
	for _, j := range e.jobs {
		select {
		case <-j.done:
		default:
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		e.polling = false
		return nil
	}
	return jobs
}

// pollOnce makes at most three Runner calls for all jobs: squeue; the exit
// files of those that ended; sacct for those that vanished without one.
func (e *Executor) pollOnce(ctx context.Context, jobs []*job) {
	statuses, err := e.squeue(ctx, jobs)
	if err != nil {
		e.log.Warn().Err(err).Int("jobs", len(jobs)).Msg("cannot ask Slurm about jobs; trying again at the next poll")
		return
	}
	var ended []*job
	e.mu.Lock()
	for _, j := range jobs {
		st, ok := statuses[j.st.JobID]
		if ok && st != j.status {
			e.log.Debug().Str("job", j.st.JobID).Str("task", j.taskID).Str("state", st.State).Str("reason", st.Reason).Msg("job state")
			j.status = st
		}
		if !ok || terminal(st.State) {
			ended = append(ended, j) // over, or gone from squeue
		}
	}
	e.mu.Unlock()
	if len(ended) > 0 {
		e.settle(ctx, ended, statuses)
	}
}

// settle decides how ended jobs went: from their exit files where they
// exist, else from the state Slurm ended them in, asking sacct about
// those squeue no longer shows.
func (e *Executor) settle(ctx context.Context, ended []*job, statuses map[string]status) {
	infos, err := e.readExits(ctx, ended)
	if err != nil {
		e.log.Warn().Err(err).Msg("cannot read the exit files of ended jobs; trying again at the next poll")
		return
	}
	var vanished []*job
	for i, j := range ended {
		if infos[i].line != "" {
			e.finishFromFile(j, infos[i])
		} else if _, seen := statuses[j.st.JobID]; !seen {
			vanished = append(vanished, j)
		}
	}
	acct, err := e.sacct(ctx, vanished)
	if err != nil {
		e.log.Warn().Err(err).Msg("sacct failed; relying on exit files")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, j := range ended {
		if infos[i].line != "" {
			continue
		}
		if _, seen := statuses[j.st.JobID]; !seen {
			j.status = acct[j.st.JobID] // the zero status when sacct cannot tell
		}
		e.withoutExitFile(j, infos[i].tail)
	}
}

// finishFromFile finishes a job whose exit file exists.
func (e *Executor) finishFromFile(j *job, info exitInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec, err := parseExitLine(info.line)
	if err != nil {
		e.finish(j, executors.Result{ExitCode: -1}, fmt.Errorf("task %q (Slurm job %s): %v: %w", j.taskID, j.st.JobID, err, executors.ErrLost))
		return
	}
	res, err := resultFromExit(j, rec)
	res.StderrTail = info.tail
	if endedByScheduler(j.status.State) {
		res.Reason = describeState(j.status) // e.g. OUT_OF_MEMORY: the kernel killed the task
	}
	e.finish(j, res, err)
}

// resultFromExit turns an exit record into a Result, or into the error a
// task that never ran gets.
func resultFromExit(j *job, rec exitRecord) (executors.Result, error) {
	res := executors.Result{ExitCode: rec.Status, Started: rec.Started, Finished: rec.Finished}
	switch rec.Kind {
	case "signal":
		res.ExitCode, res.Signal = -1, signalName(rec.Status)
	case "timeout":
		// timeout(1) exits 124 after its SIGTERM worked, else it was killed.
		res.ExitCode, res.TimedOut, res.Signal = -1, true, "SIGKILL"
		if rec.Status == 124 {
			res.Signal = "SIGTERM"
		}
	case "notfound":
		res.ExitCode = -1
		return res, &notFoundError{fmt.Sprintf("task %q cannot run %q: it is not an executable file in the task's PATH on the cluster", j.taskID, j.st.Argv0)}
	case "nodir":
		res.ExitCode = -1
		return res, fmt.Errorf("task %q could not enter its working directory on the cluster (see %s)", j.taskID, j.st.Log)
	}
	return res, nil
}

// withoutExitFile handles a job that is over but left no exit file.
// Called with e.mu held.
func (e *Executor) withoutExitFile(j *job, tail string) {
	if j.status.State == "" && j.cancelled {
		// A pending array task that is cancelled leaves no record in
		// squeue at all: gone without a trace is what was asked for.
		j.status = status{State: stateCancelled}
	}
	st := j.status
	if endedByScheduler(st.State) {
		// Slurm stopped it before the script could record anything.
		res := executors.Result{ExitCode: -1, Signal: st.State, TimedOut: st.State == stateTimeout,
			Started: j.st.Submitted, Finished: time.Now(), StderrTail: tail, Reason: describeState(st)}
		e.finish(j, res, nil)
		return
	}
	if j.missingSince.IsZero() {
		j.missingSince = time.Now()
	}
	if time.Since(j.missingSince) < missingGrace {
		return // the file may still be on its way
	}
	what := "is no longer known to Slurm"
	if st.State != "" {
		what = "ended " + describeState(st)
	}
	err := fmt.Errorf("task %q (Slurm job %s) %s without recording how the task ended (see %s): %w",
		j.taskID, j.st.JobID, what, j.st.Log, executors.ErrLost)
	e.finish(j, executors.Result{ExitCode: -1, StderrTail: tail, Reason: describeState(st)}, err)
}

// notFoundError is a sentence that wraps executors.ErrNotFound without
// repeating its text.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return executors.ErrNotFound }
