package executors

import "context"

// Executor runs tasks somewhere. All methods are safe for concurrent use,
// and every blocking one returns when its ctx ends.
type Executor interface {
	// Name is the registry name, e.g. "local"; it is stored in each Handle.
	Name() string

	// Capabilities says what this executor can do beyond running a command.
	Capabilities() Capabilities

	// Start runs t and returns once it is running (or submitted, for a
	// scheduler). It may first wait for resources; ctx bounds that wait and
	// the launch, not the task's lifetime. A command that does not exist
	// yields an error wrapping ErrNotFound and naming argv[0]; executors
	// that only learn this later return it from Wait instead.
	Start(ctx context.Context, t *Task) (*Handle, error)

	// Wait blocks until the task ends and reports how. An exit code other
	// than 0, a signal or a time-out is a Result, not an error. When ctx
	// ends first, Wait stops the task as Cancel does, waits for it to go,
	// and returns its Result together with ctx.Err(). A task is waited for
	// once: afterwards its handle is unknown (ErrUnknownTask) and the
	// resources it held are free.
	Wait(ctx context.Context, h *Handle) (Result, error)

	// Cancel stops the task: the whole task (a process group, a job) gets
	// a polite signal, then a forceful one after a grace period. It returns
	// without waiting for the task to go; Wait reports the outcome. Cancel
	// of a task that ended but was not yet waited for is a no-op; of a
	// handle the executor does not know, ErrUnknownTask.
	Cancel(ctx context.Context, h *Handle) error

	// Recover re-attaches to a task started by an earlier instance of this
	// executor (before flow restarted), so that Wait and Cancel work on h.
	// It returns an error wrapping ErrLost if the task is gone.
	Recover(ctx context.Context, h *Handle) error
}

// Capabilities lists optional abilities of an executor.
type Capabilities struct {
	Containers bool // honours Task.Image
	Arrays     bool // implements BatchStarter natively
	SharedFS   bool // task working directories are visible to flow as local paths
	// Detached: tasks outlive the flow process that started them (a
	// scheduler runs them), so a restarted flow can Recover them.
	Detached bool
}

// BatchStarter is implemented by executors that start many tasks in one
// submission (Slurm job arrays). The handles are in the order of ts.
type BatchStarter interface {
	StartBatch(ctx context.Context, ts []*Task) ([]*Handle, error)
}
