package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/executors/sandbox"
	"github.com/flow-cwl/flow/executors/singularity"
	"github.com/flow-cwl/flow/internal/confine"
	"github.com/flow-cwl/flow/internal/logging"
	"github.com/flow-cwl/flow/schema"
)

// runOptions is everything "flow run" needs, parsed from the command line.
type runOptions struct {
	Document     string   // CWL document, optionally with a #fragment
	Job          string   // input object file; "" when inputs come from flags and defaults
	InputArgs    []string // --name value flags after the document
	Outdir       string
	TmpdirPrefix string
	LeaveTmp     bool
	Parallel     int
	Compute      bool
	Log          logging.Options
	NoProgress   bool // neither the status line nor progress events

	DB            string // provenance database; "" for the default
	NoProvenance  bool   // record nothing (and so cache nothing)
	NoCache       bool   // run every step, reuse nothing
	CacheDir      string // "" for beside the database
	CacheDB       string // the step cache's index; "" for the provenance database
	Resume        string // id (or prefix) of a run to continue
	Cluster       string // --run_compute: the cluster's name in the compute configuration
	ComputeConfig string // "" for the default clusters.yaml
	Containers    containerMode
	RunID         string   // record the run under this id; continue it if it exists (for daemons)
	ComputeURL    string   // --run_compute through a flowd daemon at this URL
	ComputeToken  string   // the daemon's bearer token
	Sandbox       bool     // confine each job to its own files (executors/sandbox)
	SharedPIDNS   bool     // run local jobs as flow's direct children, in its PID namespace
	SandboxHide   []string // paths under the system directories that sandboxed jobs must not see
	AllowPaths    []string // --allow-path: when set, the only directories the run may read files from
	EnableDev     bool     // read documents of CWL's development releases
	outdirSet     bool     // --outdir was given (a resumed run keeps its own otherwise)
	// progress, when set, is told what the engine is doing (for the
	// status line or the periodic progress event).
	progress func(engine.ProgressEvent)
	// transfer, when set, is told how far each download of a remote input
	// and upload to an s3:// outdir is (the status line shows them).
	transfer func(kind, name string, done, total int64, ended bool)
}

const runUsage = `usage: flow run [flags] DOCUMENT[#id] [JOB] [--input value ...]
       flow run --resume RUN [flags]

Runs a CWL workflow or tool on this machine and prints its output object as
JSON. Inputs come from the JOB file (YAML or JSON), from flags named after
the inputs (after DOCUMENT), and from the document's defaults. Flags may
come before or after DOCUMENT; after "--" every flag is an input.

Every run is recorded in the provenance database, and steps that already
ran with the same tool and inputs are reused from the step cache. --resume
continues a failed or interrupted run: its finished steps are not run again.

flags:
`

// newRunFlags defines run's flags on a fresh FlagSet that writes into o.
func newRunFlags(o *runOptions, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("flow run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, runUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Outdir, "outdir", ".", "move the outputs into `dir`")
	fs.StringVar(&o.TmpdirPrefix, "tmpdir-prefix", "", "make work directories under `dir` (default: the system's temporary directory)")
	fs.BoolVar(&o.LeaveTmp, "leave-tmp", false, "keep work directories after the run, for debugging")
	fs.BoolVar(&o.EnableDev, "enable-dev", false, "read documents of CWL's development releases (cwlVersion v1.2.0-dev5 and the like)")
	fs.IntVar(&o.Parallel, "parallel", 0, "run at most `n` jobs at once (default: as many as the machine has room for)")
	fs.Bool("run_local", true, "run on this machine (the default)")
	fs.BoolVar(&o.Compute, "run_compute", false, "run on a Slurm cluster of the compute configuration (see --cluster)")
	fs.StringVar(&o.Cluster, "cluster", "", "with --run_compute: the cluster `name` (needed when the configuration has several)")
	fs.StringVar(&o.ComputeURL, "compute_url", "", "with --run_compute: submit to the flowd daemon at `url` (default $FLOW_URL)")
	fs.StringVar(&o.ComputeToken, "compute_access_token", "", "the daemon's `token` (default $FLOW_TOKEN)")
	fs.StringVar(&o.ComputeConfig, "compute-config", "", "the compute configuration `file` (default: clusters.yaml in the config directory)")
	fs.BoolVar(&o.Containers.Require, "singularity", false, "run steps with a DockerRequirement in Singularity/Apptainer, and fail if no runtime is found (default: when one is found)")
	fs.BoolVar(&o.Containers.Off, "no-container", false, "run every step on the host, DockerRequirement or not")
	fs.BoolVar(&o.Sandbox, "sandbox", false, "run each job in a sandbox that shows it only the system's directories, its own directory and its inputs (read-only), with no network unless the tool asks for it")
	fs.BoolVar(&o.SharedPIDNS, "shared-pid-namespace", false, "run local jobs in flow's own PID namespace rather than one that ends with flow (a job's processes that call setsid may then outlive a killed flow)")
	fs.Func("sandbox-hide", "with --sandbox: do not show jobs `path` (repeatable)", func(s string) error {
		o.SandboxHide = append(o.SandboxHide, s)
		return nil
	})
	fs.StringVar(&o.DB, "db", "", "record provenance in the database `file` (default: flow.db in the data directory)")
	fs.BoolVar(&o.NoProvenance, "no-provenance", false, "record nothing and reuse nothing")
	fs.BoolVar(&o.NoCache, "no-cache", false, "run every step, even those that ran before with the same inputs")
	fs.StringVar(&o.CacheDir, "cache-dir", "", "keep reusable step outputs in `dir` (default: cache/ beside the database)")
	fs.StringVar(&o.CacheDB, "cache-db", "", "keep the step cache's index in the database `file`, so that runs recording into different databases share one cache (default: the provenance database)")
	fs.StringVar(&o.Resume, "resume", "", "continue the recorded `run` (an id or a unique prefix of one)")
	fs.StringVar(&o.RunID, "run-id", "", "record the run under `id`; when that run is recorded already, continue it, or print its outputs if it succeeded (lets a daemon start and restart runs with one command)")
	fs.Func("allow-path", "read documents, Files and Directories only inside `dir` (repeatable; symlinks are resolved first; a daemon confines the runs it starts so)", func(dir string) error {
		if dir == "" {
			return errors.New("the directory is empty")
		}
		o.AllowPaths = append(o.AllowPaths, dir)
		return nil
	})
	addLogFlags(fs, &o.Log)
	fs.BoolVar(&o.NoProgress, "no-progress", false, "show no status line on a terminal, and log no progress events elsewhere")
	return fs
}

// addLogFlags defines --quiet, --debug and --log-format.
func addLogFlags(fs *flag.FlagSet, o *logging.Options) {
	o.Format = logging.Console
	fs.BoolVar(&o.Quiet, "quiet", false, "log only warnings and errors")
	fs.BoolVar(&o.Debug, "debug", false, "log everything, including each job's command line")
	fs.Func("log-format", "log as `console` text or json", func(s string) error {
		f, err := logging.ParseFormat(s)
		o.Format = f
		return err
	})
}

// cmdRun is "flow run": parse, then runRun.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o runOptions
	fs := newRunFlags(&o, stderr)
	if err := parseRunArgs(fs, args, &o); err != nil {
		return err
	}
	log, disp := runLogger(stderr, o.Log, !o.NoProgress)
	if disp != nil {
		defer disp.Stop()
		o.progress = disp.Event
		o.transfer = disp.Transfer
		stdout = disp.StopOnWrite(stdout)
	}
	err := runRun(ctx, o, stdout, log)
	if errors.Is(err, errInputHelp) {
		l := schema.NewLoader()
		if o.EnableDev {
			l.EnableDev()
		}
		p, lerr := l.Load(o.Document)
		if lerr != nil {
			return lerr
		}
		fmt.Fprint(stdout, inputUsage(o.Document, p))
		return flag.ErrHelp
	}
	return err
}

// parseRunArgs separates flow's flags from the document, the job file
// and the input flags, and parses flow's flags into o.
func parseRunArgs(fs *flag.FlagSet, args []string, o *runOptions) error {
	flowArgs, positional, inputArgs := splitArgs(fs, args)
	if err := fs.Parse(flowArgs); err != nil {
		return parseError(err)
	}
	fs.Visit(func(f *flag.Flag) { o.outdirSet = o.outdirSet || f.Name == "outdir" })
	if o.Resume != "" {
		if len(positional) > 0 || len(inputArgs) > 0 {
			return usagef("--resume takes the document and inputs from the recorded run; give no document, job file or inputs")
		}
		return nil
	}
	switch len(positional) {
	case 0:
		fs.Usage()
		return usagef("flow run needs a CWL document")
	case 1, 2:
		o.Document = positional[0]
		if len(positional) == 2 {
			o.Job = positional[1]
		}
	default:
		return usagef("flow run takes a document and at most one job file, found %d: %v", len(positional), positional)
	}
	o.InputArgs = inputArgs
	if o.Parallel < 0 {
		return usagef("--parallel must be 0 or more, found %d", o.Parallel)
	}
	return nil
}

// runRun loads the document and the inputs, runs it, moves the outputs
// into o.Outdir and prints the output object on stdout. The run is
// recorded in the provenance database unless o.NoProvenance.
func runRun(ctx context.Context, o runOptions, stdout io.Writer, log zerolog.Logger) (err error) {
	if err := checkOutdir(o); err != nil {
		return err
	}
	if o.Compute && (o.ComputeURL != "" || os.Getenv("FLOW_URL") != "") {
		return runRemote(ctx, o, stdout, log)
	}
	if o.RunID != "" {
		done, err := continueRunID(ctx, &o, stdout)
		if done || err != nil {
			return err
		}
	}
	var rec *recording
	if o.Resume != "" { // the record names the document and inputs
		if rec, err = startRecording(ctx, &o); err != nil {
			return err
		}
		if rec.warning != "" {
			log.Warn().Msg(rec.warning)
		}
	}
	check, err := pathCheck(o.AllowPaths)
	if err != nil {
		return rec.abandon(ctx, err, log)
	}
	warn := func(w *schema.Error) { log.Warn().Msg(message(w)) }
	p, docs, err := loadWithFiles(o.Document, loadOptions{check: check, enableDev: o.EnableDev, warn: warn})
	if err != nil {
		return rec.abandon(ctx, err, log)
	}
	inputs, inJob, reqs, err := runInputs(p, o, rec)
	if err == nil {
		check, err = fetchRemoteInputs(ctx, &o, p, inputs, inJob, check, log)
	}
	if err != nil {
		return rec.abandon(ctx, err, log)
	}
	if rec == nil { // a new run is recorded once its document and inputs are sound
		if rec, err = startRecording(ctx, &o); err != nil {
			return err
		}
	}
	var out map[string]any
	if rec != nil {
		log = log.With().Str("run", rec.run.ID).Logger()
		o.progress = announceRun(o.progress, log, logsCommand(rec.run.ID, o.DB))
		defer func() { rec.finish(ctx, out, err, log) }()
	}
	eng, closeTarget, err := newRunEngine(ctx, o, rec, reqs, check, log)
	if err != nil {
		return err
	}
	defer closeTarget()
	defer func() {
		if err := eng.Close(); err != nil {
			log.Warn().Err(err).Msg("cannot remove the work directories")
		}
	}()
	if rec != nil {
		if err := rec.saveInputs(ctx, inputs, reqs, docs, eng.Root()); err != nil {
			return err
		}
	}
	log.Debug().Str("document", o.Document).Msg("run started")
	result, err := eng.Run(ctx, p, inputs)
	if err != nil {
		return resumable(rec, runError(o.Document, inJob, err))
	}
	if !o.Compute {
		// Every job has finished: what is left of them (processes that
		// called setsid) ends now, before the outputs are moved into
		// place, so that none can write to an output being delivered.
		closeTarget()
	}
	if out, err = relocateOutputs(ctx, eng, result, o, rec, log); err != nil {
		return err
	}
	log.Info().Str("outdir", o.Outdir).Msg("run finished")
	if err := engine.WriteJSON(stdout, out); err != nil {
		// The outputs are in --outdir and recorded: a reader of stdout
		// that went away does not make the run fail.
		log.Warn().Err(err).Msg("cannot print the outputs")
	}
	return nil
}

// pathCheck is what --allow-path makes of its directories: a check that
// a path leads inside one of them, symlinks resolved; nil without them.
func pathCheck(dirs []string) (func(string) error, error) {
	if len(dirs) == 0 {
		return nil, nil
	}
	roots, err := confine.New(dirs...)
	if err != nil {
		return nil, fmt.Errorf("--allow-path: %w", err)
	}
	return roots.Check, nil
}

// resumable adds to a failed job's error how to continue the run.
func resumable(rec *recording, err error) error {
	if rec == nil || !(errors.Is(err, engine.ErrPermanentFail) || errors.Is(err, engine.ErrTemporaryFail)) {
		return err
	}
	return fmt.Errorf("%w (to continue: flow run --resume %s)", err, rec.run.ID)
}

// runInputs merges the job file and input flags, or takes a resumed run's
// recorded inputs.
func runInputs(p *schema.Process, o runOptions, rec *recording) (map[string]any, map[string]schema.Pos, []schema.Requirement, error) {
	if o.Resume != "" {
		in, reqs, err := rec.resumedInputs()
		return in, nil, reqs, err
	}
	return readInputs(p, o)
}

// newRunEngine wires the executor (local, or a cluster's Slurm for
// --run_compute), the provenance store and the step cache into an engine.
// With a cache, work directories default to beside it, so a finished
// step's outputs are in the cache without a copy; on a cluster both live
// in its workdir, which the compute nodes see.
func newRunEngine(ctx context.Context, o runOptions, rec *recording, reqs []schema.Requirement, check func(string) error, log zerolog.Logger) (*engine.Engine, func(), error) {
	opts := engine.Options{Log: log, WorkDir: o.TmpdirPrefix, LeaveTmp: o.LeaveTmp, Parallel: o.Parallel, Requirements: reqs, PathCheck: check, Progress: o.progress}
	done := func() {}
	var target *computeTarget
	if o.Compute {
		var err error
		if target, err = openCompute(ctx, o, log); err != nil {
			return nil, nil, err
		}
		opts.Executor, done = target.executor, target.close
		opts.RemoteRoot = target.remoteRoot
		if opts.WorkDir == "" && target.remoteRoot == "" {
			opts.WorkDir = filepath.Join(target.cluster.Workdir, "work")
		}
		if rec != nil {
			rec.run.Executor, rec.run.ComputeConfig = "slurm:"+target.cluster.Name, target.config
			if rec.cache != nil && o.CacheDir == "" && target.remoteRoot == "" {
				rec.cache.Dir = filepath.Join(target.cluster.Workdir, "cache")
			}
		}
	} else {
		ex, err := newLocalExecutor(ctx, o, log)
		if err != nil {
			return nil, nil, err
		}
		opts.Executor = ex
		if c, ok := ex.(io.Closer); ok { // the local executor ends its jobs' PID namespace
			done = func() { c.Close() }
		}
	}
	if err := wireSandbox(o, &opts); err != nil {
		done()
		return nil, nil, err
	}
	if err := wireContainers(ctx, o, &opts, target, log); err != nil {
		done()
		return nil, nil, err
	}
	if rec != nil {
		opts.Store, opts.RunID, opts.Cache = rec.store, rec.run.ID, rec.cache
	}
	if opts.Cache != nil && opts.WorkDir == "" {
		opts.WorkDir = filepath.Join(filepath.Dir(opts.Cache.Dir), "work")
	}
	eng, err := engine.New(opts)
	if err != nil {
		done()
		return nil, nil, err
	}
	return eng, done, nil
}

// wireContainers lets steps with a DockerRequirement run in containers,
// where the run's executor can. On a cluster (target) whose configuration
// names its runtime, jobs use that runtime (see clusterContainers).
func wireContainers(ctx context.Context, o runOptions, opts *engine.Options, target *computeTarget, log zerolog.Logger) error {
	opts.NoContainers = o.Containers.Off
	if target != nil && (opts.RemoteRoot != "" || target.cluster.Containers.HasRuntime()) {
		return clusterContainers(ctx, o, opts, target, log)
	}
	rt, src, err := findContainers(ctx, o.Containers, log)
	if err != nil || rt == nil {
		return err
	}
	rt.Sandboxed = opts.Sandbox
	opts.Executor, opts.Containers = singularity.Wrap(opts.Executor, *rt), src
	return nil
}

// wireSandbox confines every job to its view with --sandbox. The sandbox
// is the layer next to the local executor: the container runtime's layer
// goes above it, so that the runtime itself runs in the sandbox.
func wireSandbox(o runOptions, opts *engine.Options) error {
	if !o.Sandbox {
		return nil
	}
	if o.Compute {
		return fmt.Errorf("--sandbox confines jobs on this machine; with --run_compute they run on the cluster, under its account's permissions")
	}
	ex, err := sandbox.Wrap(opts.Executor, sandbox.Options{Hide: o.SandboxHide})
	if err != nil {
		return fmt.Errorf("--sandbox: %w", err)
	}
	opts.Executor, opts.Sandbox = ex, true
	return nil
}

// inputError is implemented by engine errors about one value of the
// top-level input object; InputID names the input.
type inputError interface {
	error
	InputID() string
}

// runError makes an engine error say where to look. An error about an
// input given in the job file points at the value there; any other error
// that names no place is prefixed with the document.
func runError(doc string, inJob map[string]schema.Pos, err error) error {
	var ie inputError
	if errors.As(err, &ie) {
		if pos, ok := inJob[ie.InputID()]; ok {
			pos.File = shortPath(pos.File)
			return fmt.Errorf("%s: %w", pos, err)
		}
	}
	var se *schema.Error
	if errors.As(err, &se) || errors.Is(err, context.Canceled) || hasPosition(err.Error()) {
		return err
	}
	return fmt.Errorf("%s: %w", docPath(doc), err)
}

// hasPosition reports whether msg starts with a file:line:col position.
func hasPosition(msg string) bool {
	return positionRE.MatchString(msg)
}

var positionRE = regexp.MustCompile(`^\S+:\d+:\d+: `)

// docPath is a document reference without its #fragment.
func docPath(doc string) string {
	path, _, _ := strings.Cut(doc, "#")
	return path
}

// readInputs merges the job file (if any) with the input flags, flags
// winning. It also returns where in the job file each remaining value
// was written, for error messages, and the file's cwl:requirements.
func readInputs(p *schema.Process, o runOptions) (map[string]any, map[string]schema.Pos, []schema.Requirement, error) {
	inputs := map[string]any{}
	inJob := map[string]schema.Pos{}
	var reqs []schema.Requirement
	if o.Job != "" {
		job, err := schema.LoadInputs(o.Job)
		if err != nil {
			return nil, nil, nil, err
		}
		inputs, reqs = job.Values, job.Requirements
		if job.Node != nil {
			for i, k := range job.Node.Keys {
				inJob[k] = job.Node.Vals[i].Pos
			}
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, nil, err
	}
	flags, err := parseInputFlags(p, o.InputArgs, wd)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", docPath(o.Document), err)
	}
	for k, v := range flags {
		inputs[k] = v
		delete(inJob, k)
	}
	return inputs, inJob, reqs, nil
}

func printJSON(w io.Writer, v any) error {
	var compact bytes.Buffer
	enc := json.NewEncoder(&compact)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	// Indenting rescans the JSON, and encoding/json's scanner refuses more
	// than 10,000 levels of nesting, which a user's input may have: such a
	// value is printed compact rather than not at all.
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "    "); err != nil {
		_, err = w.Write(compact.Bytes())
		return err
	}
	_, err := w.Write(out.Bytes())
	return err
}
