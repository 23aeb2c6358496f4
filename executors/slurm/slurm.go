package slurm

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
)

// Name is the registry name of this executor.
const Name = "slurm"

var (
	_ executors.Executor     = (*Executor)(nil)
	_ executors.BatchStarter = (*Executor)(nil)
)

// Options configure an Executor. Runner is required; the rest have
// defaults.
type Options struct {
	Runner                  Runner
	Partition, Account, QOS string        // #SBATCH values; "" leaves Slurm's default
	MaxArraySize            int           // most tasks in one job array; default 1000
	ArrayLimit              int           // %limit of arrays (tasks of one array running at once), 0 none
	PollInterval            time.Duration // how often squeue is asked; default 2s
	Prologue                []string      // lines run in the job script before the task, e.g. "module load apptainer"
	NamePrefix              string        // job names are "flow-<prefix>-<task>" (sanitised)
	// StateDir holds the job scripts, logs and exit files; "" puts them in
	// .flow-slurm beside the first task's working directory. Set it when
	// tasks' directories go away with the tasks (remote staging), since
	// one job array serves many tasks.
	StateDir string
	Logger   zerolog.Logger
}

// Executor submits tasks to Slurm and follows them. Make one with New.
type Executor struct {
	opts Options
	log  zerolog.Logger

	mu      sync.Mutex
	jobs    map[string]*job // by Handle.JobID
	polling bool            // a poller goroutine is running
	acct    acctMode        // what sacct can do here, learned on first use
}

// job is one submitted task (a plain job, or one task of an array).
type job struct {
	taskID string
	st     jobState
	done   chan struct{} // closed when res and err are final

	// Guarded by Executor.mu.
	status       status    // as squeue (or sacct) last reported it
	missingSince time.Time // when the job was first seen over without an exit file
	waiting      bool      // a Wait has claimed it
	cancelled    bool      // scancel accepted it
	res          executors.Result
	err          error
}

// New makes an executor. Nothing is run until the first Start.
func New(opts Options) (*Executor, error) {
	if opts.Runner == nil {
		return nil, errors.New("the Slurm executor needs a Runner to run sbatch and squeue with")
	}
	for _, f := range []struct{ name, v string }{
		{"partition", opts.Partition}, {"account", opts.Account}, {"QOS", opts.QOS},
	} {
		if err := checkDirectiveValue(f.name, f.v); err != nil {
			return nil, err
		}
	}
	if opts.MaxArraySize <= 0 {
		opts.MaxArraySize = 1000
	}
	if opts.ArrayLimit < 0 {
		opts.ArrayLimit = 0
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	return &Executor{
		opts: opts,
		log:  opts.Logger.With().Str("executor", Name).Logger(),
		jobs: make(map[string]*job),
	}, nil
}

// Name returns "slurm".
func (e *Executor) Name() string { return Name }

// Capabilities: job arrays; containers come from the Singularity wrapper;
// the file system is shared with flow when the cluster is this machine.
func (e *Executor) Capabilities() executors.Capabilities {
	_, local := e.opts.Runner.(LocalRunner)
	if !local {
		_, local = e.opts.Runner.(*LocalRunner)
	}
	return executors.Capabilities{Arrays: true, SharedFS: local, Detached: true}
}

// track starts following a submitted (or recovered) job.
func (e *Executor) track(taskID string, st jobState) *job {
	j := &job{taskID: taskID, st: st, done: make(chan struct{})}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.jobs[st.JobID] = j
	if !e.polling {
		e.polling = true
		go e.poll()
	}
	return j
}

// forget drops a job: it was waited for, or its submission failed.
func (e *Executor) forget(j *job) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.jobs[j.st.JobID] == j {
		delete(e.jobs, j.st.JobID)
	}
}

// validJobID matches the ids this executor writes into handles; anything
// else in a handle is refused before it reaches a command line.
var validJobID = regexp.MustCompile(`^[0-9]+(_[0-9]+)?$`)

// lookup finds the job h names.
func (e *Executor) lookup(h *executors.Handle) (*job, error) {
	if h.Executor != Name {
		return nil, fmt.Errorf("task %q was started by the %q executor, not by %q", h.TaskID, h.Executor, Name)
	}
	e.mu.Lock()
	j := e.jobs[h.JobID]
	e.mu.Unlock()
	if j == nil || j.taskID != h.TaskID {
		return nil, fmt.Errorf("task %q (Slurm job %s) is not followed by this executor: %w", h.TaskID, h.JobID, executors.ErrUnknownTask)
	}
	return j, nil
}

// finish records how j ended and wakes its Wait. Called with e.mu held.
func (e *Executor) finish(j *job, res executors.Result, err error) {
	select {
	case <-j.done:
		return // already final
	default:
	}
	j.res, j.err = res, err
	close(j.done)
	ev := e.log.Debug()
	if err != nil || res.Reason != "" {
		ev = e.log.Info()
	}
	ev.Str("job", j.st.JobID).Str("task", j.taskID).Int("exit_code", res.ExitCode).Str("signal", res.Signal).
		Bool("timed_out", res.TimedOut).Str("reason", res.Reason).Err(err).Msg("task finished")
}

// Status reports what Slurm last said about the task: its state (PENDING,
// RUNNING, ...) and the reason it is held, if any ("Resources",
// "Priority", "QOSMaxJobsPerUserLimit"), for showing to users.
func (e *Executor) Status(h *executors.Handle) (state, reason string, err error) {
	j, err := e.lookup(h)
	if err != nil {
		return "", "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return j.status.State, j.status.Reason, nil
}

// describeState is a job's state for Result.Reason: "TIMEOUT", or
// "PREEMPTED (Reason)" when Slurm gave one.
func describeState(s status) string {
	if s.Reason == "" {
		return s.State
	}
	return s.State + " (" + s.Reason + ")"
}

// commandTimeout bounds one Runner call made in the background.
func (e *Executor) commandTimeout() time.Duration {
	return max(30*time.Second, 5*e.opts.PollInterval)
}

// background is a ctx for a Runner call that must happen even though
// the caller's ctx ended (stopping a job after Wait's ctx ended).
func (e *Executor) background(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), e.commandTimeout())
}
