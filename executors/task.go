package executors

import (
	"errors"
	"fmt"
	"time"
)

// Task is one command to run. It is complete: an executor adds nothing to
// the environment and resolves nothing against its own state.
type Task struct {
	ID        string            // unique within a run, e.g. "main/align/3"
	Argv      []string          // argv[0] is looked up in Env["PATH"] unless it contains "/"
	Env       map[string]string // the complete environment; nothing is inherited (PWD naming Dir may be added, as a shell adds it)
	Dir       string            // working directory; must exist
	Stdin     string            // path (relative to Dir or absolute), or "" for /dev/null
	Stdout    string            // path (relative to Dir or absolute), created 0644 and truncated, or "" to discard
	Stderr    string            // like Stdout; when "", the executor may keep a tail for Result.StderrTail
	TimeLimit time.Duration     // 0 means none
	Resources Resources
	// Image is the SIF file (a path on the machine flow runs on) to run the
	// command in, for executors with Containers; others refuse such tasks.
	Image string
	// Mounts say where host paths appear to the command when it does not
	// see flow's own paths: inside a container, or on a machine that does
	// not share flow's file system. Argv, Env, Dir and the streams name
	// Targets; an executor that cannot honour a mount refuses the task.
	Mounts []Mount
	// Network says the command may reach the network (CWL's
	// NetworkAccess). Executors that confine tasks cut it off otherwise.
	Network bool
}

// Mount makes the file or directory Source (a path on the machine flow
// runs on) appear to the command at Target.
type Mount struct {
	Source   string
	Target   string
	Writable bool // the command may change it; otherwise read-only
}

// Resources is what a task asks for. Zero means "not stated"; an executor
// counts a task that states no cores as using one.
type Resources struct {
	Cores     float64
	RAMMiB    int64
	TmpdirMiB int64
	OutdirMiB int64
}

// Validate reports the first thing that makes t impossible to run, as a
// sentence naming the task.
func (t *Task) Validate() error {
	switch {
	case t.ID == "":
		return errors.New("a task has no id")
	case len(t.Argv) == 0 || t.Argv[0] == "":
		return fmt.Errorf("task %q has no command to run", t.ID)
	case t.Dir == "":
		return fmt.Errorf("task %q has no working directory", t.ID)
	case t.TimeLimit < 0:
		return fmt.Errorf("task %q has a negative time limit (%v)", t.ID, t.TimeLimit)
	case t.Resources.Cores < 0 || t.Resources.RAMMiB < 0 || t.Resources.TmpdirMiB < 0 || t.Resources.OutdirMiB < 0:
		return fmt.Errorf("task %q asks for negative resources (%+v)", t.ID, t.Resources)
	}
	return nil
}

// Handle identifies a started task. It is plain data meant to be stored (as
// JSON) and handed back, possibly to a new executor after a restart.
type Handle struct {
	Executor string // Name() of the executor that started the task
	TaskID   string
	PID      int    // process id, for executors that run processes
	JobID    string // scheduler job id, for executors that submit jobs
	State    []byte // opaque to everyone but the executor
}

// Result is how a task ended.
type Result struct {
	ExitCode  int    // -1 if killed by a signal
	Signal    string // e.g. "SIGKILL" when killed by a signal, else ""
	TimedOut  bool   // stopped because it ran past Task.TimeLimit
	Started   time.Time
	Finished  time.Time
	MaxRSSKiB int64
	UserCPU   time.Duration
	SysCPU    time.Duration
	// StderrTail is the last few KiB of stderr, for error messages.
	StderrTail string
	// Reason says why a scheduler ended or held the task, for messages,
	// e.g. "TIMEOUT (TimeLimit)" or "OUT_OF_MEMORY"; "" when the task
	// ended on its own or the executor cannot tell.
	Reason string
}

// Success reports whether the task exited on its own with status 0.
func (r Result) Success() bool {
	return r.ExitCode == 0 && r.Signal == "" && !r.TimedOut
}
