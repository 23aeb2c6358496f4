package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/internal/confine"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/schema"
)

// Options configure an Engine.
type Options struct {
	// Executor runs the commands of CommandLineTools.
	Executor executors.Executor
	// Log receives progress; narrowed with "step" fields per step.
	Log zerolog.Logger
	// WorkDir holds each job's work directory; "" means the system's
	// temporary directory.
	WorkDir string
	// LeaveTmp keeps work directories after the run, for debugging.
	LeaveTmp bool
	// Parallel caps how many jobs run at once; 0 means as many as the
	// executor admits.
	Parallel int
	// Requirements apply to every process of the run, above the
	// processes' own (cwl:requirements of an input object).
	Requirements []schema.Requirement
	// Store records every job as a provenance.Attempt of run RunID; nil
	// records nothing.
	Store provenance.Store
	RunID string
	// Cache reuses jobs already run with the same tool and inputs; nil
	// runs every job.
	Cache *Cache
	// RemoteRoot, when set, says the executor runs commands on a machine
	// that does not share flow's file system. Each job's paths appear
	// there under a directory of its own directly below RemoteRoot (the
	// executor uploads what each task mounts, and removes that directory
	// after the job).
	RemoteRoot string
	// Containers runs the jobs of tools with a DockerRequirement in their
	// images; nil runs them on the host where the DockerRequirement is a
	// hint, and refuses them (as unsupported) where it is a requirement.
	Containers Containers
	// NoContainers runs every job on the host, DockerRequirement or not.
	NoContainers bool
	// NoContainersReason, when Containers is nil, says why in the message
	// that refuses a required DockerRequirement ("" gives general advice).
	NoContainersReason string
	// Sandbox says the executor confines each job on this machine to
	// its view (executors/sandbox): the engine then gives every job
	// without an image mounts for its directories and inputs.
	Sandbox bool
	// PathCheck, when set, is asked about the local path of every File
	// and Directory a process is given before flow reads it: inputs and
	// defaults, secondary files, listings, InitialWorkDir entries. An
	// error stops the run; it should read as a predicate ("is outside
	// what this run may read"). flow run --allow-path confines runs so.
	PathCheck func(path string) error
	// Progress, when set, is told as workflows, steps and jobs start and
	// end, for a status display. It is called from many goroutines at
	// once and must return quickly.
	Progress func(ProgressEvent)
}

// ErrPermanentFail, ErrTemporaryFail classify a failed job, as the CWL
// spec's permanentFail and temporaryFail.
var (
	ErrPermanentFail = errors.New("permanent failure")
	ErrTemporaryFail = errors.New("temporary failure")
)

// Engine runs CWL processes. One Engine runs one top-level process; its
// work directories live until Close.
type Engine struct {
	opts   Options
	root   string // this run's work directory
	jobSeq atomic.Int64
	tmpSeq atomic.Int64
	// tmpPool holds empty temporary directories for reuse.
	tmpPool chan string
	slots   chan struct{} // nil when Parallel is 0
	// sums hashes files once per run, for provenance and the cache.
	sums *Cache
	// records writes finished jobs' attempts off their path (record.go);
	// nil when the run records nothing.
	records *provenance.Recorder
	// attempts counts the attempts of each job, for resumed runs.
	mu       sync.Mutex
	attempts map[string]int
	// latest is each job's last attempt in the run being resumed.
	latest map[string]*provenance.Attempt
	// evaluators caches one expression evaluator per expressionLib.
	evaluators sync.Map
	literalSeq atomic.Int64
	// produced holds the resolved paths of the Files and Directories the
	// run's jobs output (in their output directories, maybe the cache's),
	// which later steps may read whatever Options.PathCheck says.
	produced sync.Map
	// inputs maps the real paths of the Files and Directories given to
	// the run's processes to their paths: outputs never replace them.
	inputs sync.Map
}

// New prepares an Engine and its work directory.
func New(opts Options) (*Engine, error) {
	if opts.Executor == nil {
		return nil, errors.New("engine: no executor")
	}
	base := opts.WorkDir
	if base == "" {
		base = os.TempDir()
	}
	// Jobs run in directories of their own: every path the engine hands
	// them (staged inputs, runtime.outdir) must not depend on flow's.
	base, err := filepath.Abs(base)
	if err != nil {
		return nil, fmt.Errorf("cannot create work directory: %w", err)
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create work directory: %w", err)
	}
	root, err := os.MkdirTemp(base, "flow-run-")
	if err != nil {
		return nil, fmt.Errorf("cannot create work directory: %w", err)
	}
	e := &Engine{opts: opts, root: root, tmpPool: make(chan string, 64), attempts: map[string]int{}, latest: map[string]*provenance.Attempt{}, sums: opts.Cache}
	if e.sums == nil {
		e.sums = &Cache{}
	}
	if opts.Parallel > 0 {
		e.slots = make(chan struct{}, opts.Parallel)
	}
	e.startRecords()
	return e, nil
}

// Root is the run's work directory.
func (e *Engine) Root() string { return e.root }

// Close removes the work directories unless LeaveTmp is set. Outputs must
// have been relocated (see Relocate) before.
func (e *Engine) Close() error {
	if e.records != nil {
		e.records.Close()
	}
	if e.opts.LeaveTmp {
		e.opts.Log.Info().Str("dir", e.root).Msg("work directories kept")
		return nil
	}
	return removeAll(e.root)
}

// Run runs process p on the input object and returns its output object.
func (e *Engine) Run(ctx context.Context, p *schema.Process, inputs map[string]any) (map[string]any, error) {
	if err := e.countEarlierAttempts(ctx); err != nil {
		return nil, err
	}
	if err := e.PullImages(ctx, p); err != nil {
		return nil, err
	}
	env := &procEnv{override: e.opts.Requirements, discover: true}
	defer e.flushRecords()
	return e.runProcess(ctx, p, inputs, env, "main")
}

// checkPath asks Options.PathCheck, if any, about the File or Directory
// object m (not what it holds).
func (e *Engine) checkPath(m map[string]any) error {
	if e.opts.PathCheck == nil {
		return nil
	}
	p := localPath(m)
	if p == "" {
		return nil // a literal, which flow writes
	}
	if e.made(p) {
		return nil
	}
	if err := e.opts.PathCheck(p); err != nil {
		loc, _ := m["location"].(string)
		if loc == "" {
			loc = p
		}
		return fmt.Errorf("%s location %q %w", m["class"], loc, err)
	}
	return nil
}

// made reports whether the path p leads into the run's work directory
// (literals, staging) or to (or into) a File or Directory a job of the
// run output: what the run made itself is not confined, since outputs
// are (see job.confineOutputs).
func (e *Engine) made(p string) bool {
	real, err := confine.Resolve(p)
	if err != nil {
		return false
	}
	if root, err := filepath.EvalSymlinks(e.root); err == nil && confine.Within(real, root) {
		return true
	}
	for d := real; ; d = filepath.Dir(d) {
		if _, ok := e.produced.Load(d); ok {
			return true
		}
		if d == filepath.Dir(d) {
			return false
		}
	}
}

// noteProduced records the Files and Directories of a job's output
// object for made.
func (e *Engine) noteProduced(out map[string]any) {
	if e.opts.PathCheck == nil {
		return
	}
	_ = walkFiles(out, func(m map[string]any) error {
		if p := localPath(m); p != "" {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				e.produced.Store(real, struct{}{})
			}
		}
		return nil
	})
}

// checkPaths is checkPath for every File and Directory in v, secondary
// files and listings included.
func (e *Engine) checkPaths(v any) error {
	if e.opts.PathCheck == nil {
		return nil
	}
	return walkFiles(v, e.checkPath)
}

// newJobDir makes a fresh output directory for one job and returns it
// with the job's sequence number. It is the only directory every job
// needs; staging and temporary directories come from elsewhere, because
// creating directories is a large part of what a short job costs.
func (e *Engine) newJobDir(name string) (string, int64, error) {
	n := e.jobSeq.Add(1)
	dir := filepath.Join(e.root, fmt.Sprintf("%d-%s", n, sanitize(name)))
	return dir, n, os.Mkdir(dir, 0o755)
}

// takeTmp returns an empty temporary directory for a job: one that an
// earlier job left empty, or a new one.
func (e *Engine) takeTmp() (string, error) {
	select {
	case d := <-e.tmpPool:
		return d, nil
	default:
	}
	d := filepath.Join(e.root, "tmp", fmt.Sprint(e.tmpSeq.Add(1)))
	return d, os.MkdirAll(d, 0o755)
}

// giveTmp hands a job's temporary directory back. An empty one is kept
// for the next job; one with leftovers is removed.
func (e *Engine) giveTmp(d string) {
	f, err := os.Open(d)
	if err != nil {
		return
	}
	names, _ := f.Readdirnames(1)
	f.Close()
	if len(names) > 0 {
		_ = removeAll(d)
		return
	}
	select {
	case e.tmpPool <- d:
	default:
		_ = os.Remove(d)
	}
}

// acquire takes one of the Parallel slots, if there is a cap.
func (e *Engine) acquire(ctx context.Context) (func(), error) {
	if e.slots == nil {
		return func() {}, nil
	}
	select {
	case e.slots <- struct{}{}:
		return func() { <-e.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// scatterWidth bounds how many of a scatter's n jobs are in flight, so a
// 10,000-way scatter does not hold 10,000 goroutines and directories on
// this machine. An executor that runs job arrays gets them all at once:
// the scheduler is where they wait, as one array rather than many jobs.
func (e *Engine) scatterWidth(n int) int {
	switch {
	case e.opts.Parallel > 0:
		return e.opts.Parallel
	case e.opts.Executor.Capabilities().Arrays:
		return max(n, 1)
	}
	return 4 * runtime.NumCPU()
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[len(b)-40:]
	}
	return string(b)
}

func removeAll(dir string) error {
	// make read-only trees (writable: false staging) removable first
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// countEarlierAttempts learns how many attempts each job of a resumed run
// already had, so new attempts are numbered after them.
func (e *Engine) countEarlierAttempts(ctx context.Context) error {
	if e.opts.Store == nil || e.opts.RunID == "" {
		return nil
	}
	earlier, err := e.opts.Store.Attempts(ctx, e.opts.RunID)
	if err != nil {
		return fmt.Errorf("cannot read the run's earlier steps: %w", err)
	}
	for _, a := range earlier {
		if a.Attempt >= e.attempts[a.Job] {
			e.latest[a.Job] = a
		}
		e.attempts[a.Job] = max(e.attempts[a.Job], a.Attempt)
	}
	return nil
}
