package local

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
)

// Name is the registry name of this executor.
const Name = "local"

var _ executors.Executor = (*Executor)(nil)

// Options configure an Executor. The zero value is usable: the whole
// machine, no cap on concurrent tasks, a 5s kill grace, no logging.
type Options struct {
	Cores        float64       // cores to hand out; 0 means runtime.NumCPU()
	RAMMiB       int64         // memory to hand out; 0 means physical memory
	MaxParallel  int           // most tasks at once; 0 means no cap beyond cores and memory
	KillGrace    time.Duration // SIGTERM to SIGKILL; 0 means 5s
	PollInterval time.Duration // how often Wait looks at a recovered process; 0 means 1s
	// SharedPIDNamespace runs tasks in flow's own PID namespace, as
	// direct children of flow. A task's processes that leave its process
	// group (setsid) can then outlive a flow killed with SIGKILL. By
	// default tasks run in a PID namespace of the executor's own (see the
	// package documentation), where one can be made.
	SharedPIDNamespace bool
	Logger             zerolog.Logger
}

// Executor runs tasks as local child processes. Make one with New.
type Executor struct {
	opts    Options
	log     zerolog.Logger
	pool    *pool
	bootID  string   // "" where unknown; then nothing can be recovered
	devNull *os.File // shared by every task whose stdin or stdout is ""

	mu    sync.Mutex
	procs map[string]*proc // by task id; nil while a Start is in progress

	found sync.Map // foundKey -> the program's path, see lookPath

	nsMu     sync.Mutex
	ns       *jobNamespace // where tasks run; nil: as flow's children
	nsFailed bool          // no namespace can be made here; warned once
}

// New makes an executor. It fails only if it cannot open /dev/null.
func New(opts Options) (*Executor, error) {
	log := opts.Logger.With().Str("executor", Name).Logger()
	if opts.Cores <= 0 {
		opts.Cores = float64(runtime.NumCPU())
	}
	if opts.RAMMiB <= 0 {
		mib, err := physicalMemoryMiB()
		if err != nil {
			log.Warn().Err(err).Msg("cannot tell how much memory this machine has; memory will not limit how many tasks run at once")
		}
		opts.RAMMiB = mib // 0 if unknown: unlimited
	}
	if opts.KillGrace <= 0 {
		opts.KillGrace = 5 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("the local executor cannot open %s: %w", os.DevNull, err)
	}
	bootID, err := readBootID()
	if err != nil {
		log.Debug().Err(err).Msg("no boot id; tasks cannot be recovered after a restart")
	}
	log.Debug().Float64("cores", opts.Cores).Int64("ram_mib", opts.RAMMiB).
		Int("max_parallel", opts.MaxParallel).Msg("local executor ready")
	return &Executor{
		opts:    opts,
		log:     log,
		pool:    newPool(opts.Cores, opts.RAMMiB, opts.MaxParallel),
		bootID:  bootID,
		devNull: devNull,
		procs:   make(map[string]*proc),
	}, nil
}

// Name returns "local".
func (e *Executor) Name() string { return Name }

// Capabilities: no containers (the Singularity wrapper provides those), no
// arrays, and the work directory is the local file system.
func (e *Executor) Capabilities() executors.Capabilities {
	return executors.Capabilities{SharedFS: true}
}

// Cancel stops the task's process group: SIGTERM now, SIGKILL after the
// grace period. It does not wait; Wait reports the outcome.
func (e *Executor) Cancel(ctx context.Context, h *executors.Handle) error {
	p, err := e.lookup(h)
	if err != nil {
		return err
	}
	p.terminate(stopCancel)
	return nil
}

// lookup finds the running task h names.
func (e *Executor) lookup(h *executors.Handle) (*proc, error) {
	if h.Executor != Name {
		return nil, fmt.Errorf("task %q was started by the %q executor, not by %q", h.TaskID, h.Executor, Name)
	}
	e.mu.Lock()
	p := e.procs[h.TaskID]
	e.mu.Unlock()
	if p == nil || p.pid != h.PID {
		return nil, fmt.Errorf("task %q (pid %d) is not running under this executor: %w", h.TaskID, h.PID, executors.ErrUnknownTask)
	}
	return p, nil
}

// forget drops a finished task and gives back its resources.
func (e *Executor) forget(p *proc) {
	e.mu.Lock()
	delete(e.procs, p.id)
	e.mu.Unlock()
	e.pool.release(p.need)
}
