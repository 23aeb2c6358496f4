package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/schema"
)

// job is one run of a CommandLineTool: its directories, runtime object
// and the evaluation context its expressions see.
type job struct {
	p      *schema.Process
	pe     *procEnv
	ev     *expr.Evaluator
	name   string
	stage  string // where inputs are staged, made when needed
	outdir string
	tmpdir string
	inputs map[string]any
	rt     map[string]any
	res    executors.Resources
	staged []string             // sources InitialWorkDirRequirement linked into outdir
	origin map[string]string    // staged input path → the input's own path
	stamps map[string]fileStamp // each input File's stamp when it was staged
	view   *pathView            // where the command sees its files; nil: flow's own paths
	image  *Image               // the container the command runs in; nil: the host
	ctx    context.Context      // the run's: copies made for the job stop with it
}

func (j *job) eval(v any, self any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	return j.ev.Eval(s, expr.Context{Inputs: j.inputs, Self: self, Runtime: j.rt})
}

// runTool runs a CommandLineTool job from start to collected outputs,
// or takes its outputs from the cache.
func (e *Engine) runTool(ctx context.Context, p *schema.Process, inputs map[string]any, pe *procEnv, ev *expr.Evaluator, name string) (map[string]any, error) {
	rec := e.newAttempt(p, name)
	img, err := e.containerImage(ctx, p, pe)
	if err != nil {
		e.finishAttempt(ctx, rec, provenance.StepFailed, inputs, nil, nil, nil, err)
		return nil, err
	}
	if img != nil && rec != nil {
		rec.Image, rec.ImageDigest = img.Name, img.Digest
	}
	key, out, release, err := e.fromCache(ctx, p, inputs, pe, ev, img, name)
	if err != nil {
		if ctx.Err() != nil {
			e.finishAttempt(ctx, rec, provenance.StepFailed, inputs, nil, nil, nil, ctx.Err())
			return nil, ctx.Err()
		}
		e.opts.Log.Warn().Err(err).Str("step", name).Msg("cannot compute the cache key; the step runs")
	}
	defer release()
	if out != nil {
		e.noteProduced(out)
		e.opts.Log.Info().Str("step", name).Msg("reused from the cache")
		e.finishAttempt(ctx, rec, provenance.StepReused, inputs, out, nil, nil, nil)
		return out, nil
	}
	var task *executors.Task
	var res *executors.Result
	reattached := false
	if prev := e.runningBefore(name); prev != nil {
		out, task, res, err, reattached = e.reattach(ctx, p, inputs, pe, ev, name, key, prev)
		if reattached && rec != nil {
			rec.JobID, rec.Handle = prev.JobID, prev.Handle // the same job, followed again
		}
	}
	if !reattached {
		out, task, res, err = e.runJob(ctx, p, inputs, pe, ev, name, key, rec, img)
	}
	state := provenance.StepSucceeded
	if err != nil {
		state = provenance.StepFailed
	} else {
		e.noteProduced(out)
	}
	e.finishAttempt(ctx, rec, state, inputs, out, task, res, err)
	return out, err
}

// fromCache looks a job up in the step cache. It returns the outputs of
// a hit; else the key the job's outputs are to be saved under (nil: they
// are not), which a job that starts before its inputs are hashed learns
// while it runs (see keyPlan). Either way the caller calls release once
// the job's outputs are saved: until then, a job of the same key (or, for
// one started early, of the same shape) waits, and then finds them.
//
// A tool that allows reuse is saved under its own key and found under it
// or the run's; one that does not, only under the key scoped to this run
// (a resumed run finds it).
func (e *Engine) fromCache(ctx context.Context, p *schema.Process, inputs map[string]any, pe *procEnv, ev *expr.Evaluator, img *Image, name string) (key *jobKey, out map[string]any, release func(), err error) {
	release = func() {}
	c := e.opts.Cache
	if c == nil {
		return nil, nil, release, nil
	}
	reuse, err := reuseAllowed(pe, ev, inputs)
	if err != nil {
		return nil, nil, release, err
	}
	scope := func(key string) []string {
		if !reuse {
			return []string{runScoped(e.opts.RunID, key)}
		}
		return []string{key, runScoped(e.opts.RunID, key)}
	}
	kp, err := c.plan(p, inputs, pe, img)
	if err != nil {
		return nil, nil, release, err
	}
	shape := "shape:" + kp.shape
	if c.unread(ctx, kp) && !c.mayHold(ctx, scope(kp.shape)...) {
		if release, _ := c.tryHold(shape); release != nil {
			e.opts.Log.Debug().Str("step", name).Msg("no cache entry can match; the job starts while its inputs are hashed")
			return c.keyLater(ctx, kp, func(k string) string { return scope(k)[0] }), nil, release, nil
		}
	}
	// A job of this shape that started before its inputs were hashed may
	// be saving the very outputs this one would reuse.
	if err := c.await(ctx, shape); err != nil {
		return nil, nil, release, err
	}
	k, err := c.key(ctx, kp)
	if err != nil {
		return nil, nil, release, err
	}
	keys := scope(k)
	if release, err = c.hold(ctx, keys[0]); err != nil {
		return nil, nil, func() {}, err
	}
	if out, ok := c.lookup(ctx, keys...); ok {
		return nil, out, release, nil
	}
	return knownKey(keys[0]), nil, release, nil
}

// runJob runs one job; with a cache key, its outputs move into the cache.
func (e *Engine) runJob(ctx context.Context, p *schema.Process, inputs map[string]any, pe *procEnv, ev *expr.Evaluator, name string, key *jobKey, rec *provenance.Attempt, img *Image) (out map[string]any, task *executors.Task, res *executors.Result, err error) {
	j, err := e.newJob(p, inputs, pe, ev, name)
	if err == nil {
		j.image, j.ctx = img, ctx
	}
	if err != nil {
		return nil, nil, nil, err
	}
	defer e.giveTmp(j.tmpdir)
	if task, err = e.prepareTask(j); err != nil {
		var se *schema.Error
		if errors.As(err, &se) {
			return nil, nil, nil, err // already says where in the document
		}
		return nil, nil, nil, fmt.Errorf("%s: %s: %w", p.Pos, shortName(p), err)
	}
	result, err := e.execute(ctx, j, task, rec)
	res = &result
	task.Dir = j.outdir // the record names flow's directory, not the command's view of it
	if err != nil {
		return nil, task, res, err
	}
	out, err = e.finishJob(ctx, j, task, result, key)
	return out, task, res, err
}

// finishJob classifies how a job's command ended and collects its
// outputs; with a cache key, they are kept in the cache.
func (e *Engine) finishJob(ctx context.Context, j *job, task *executors.Task, result executors.Result, key *jobKey) (map[string]any, error) {
	if err := j.leaveView(); err != nil {
		return nil, fmt.Errorf("%s: cannot collect the outputs of job %s: %w", shortName(j.p), j.name, err)
	}
	if err := j.inputsUntouched(); err != nil {
		return nil, fmt.Errorf("%s: %w", shortName(j.p), err)
	}
	j.rt["exitCode"] = int64(result.ExitCode)
	if err := classifyExit(j.p, j, result); err != nil {
		return nil, err
	}
	out, err := e.collectOutputs(ctx, j)
	if err != nil || key == nil {
		return out, err
	}
	saved, dir, err := e.opts.Cache.save(ctx, j, key, out, e.opts.RunID)
	var noKey *keyError
	switch {
	case errors.Is(err, errEntryTaken):
		return out, nil // the outputs stay in the job's own directory
	case errors.As(err, &noKey) && ctx.Err() == nil:
		e.opts.Log.Warn().Err(noKey.err).Str("step", j.name).Msg("cannot compute the cache key; the outputs are not cached")
		return out, nil
	case err == nil:
		task.Dir = dir
	}
	return saved, err
}

func (e *Engine) newJob(p *schema.Process, inputs map[string]any, pe *procEnv, ev *expr.Evaluator, name string) (*job, error) {
	outdir, seq, err := e.newJobDir(name)
	if err != nil {
		return nil, err
	}
	tmpdir, err := e.takeTmp()
	if err != nil {
		return nil, err
	}
	stage := filepath.Join(e.root, "stage", fmt.Sprint(seq))
	j := &job{p: p, pe: pe, ev: ev, name: name, stage: stage, outdir: outdir, tmpdir: tmpdir, inputs: inputs, ctx: context.Background()}
	j.rt = map[string]any{"outdir": j.outdir, "tmpdir": j.tmpdir}
	if err := j.resources(); err != nil {
		return nil, fmt.Errorf("%s: ResourceRequirement: %w", shortName(p), err)
	}
	return j, nil
}

// resources evaluates ResourceRequirement into the runtime object and the
// task's reservation. Defaults follow the reference runner: 1 core,
// 256 MiB of RAM, 1 GiB of tmpdir and outdir.
func (j *job) resources() error {
	r, _ := j.pe.find("ResourceRequirement")
	get := func(minKey, maxKey string, def float64) (float64, error) {
		v := r[minKey]
		if v == nil {
			v = r[maxKey]
		}
		if v == nil {
			return def, nil
		}
		x, err := j.eval(v, nil)
		if err != nil {
			return 0, err
		}
		switch n := x.(type) {
		case int64:
			return float64(n), nil
		case float64:
			return n, nil
		}
		return 0, fmt.Errorf("%s must be a number, got %s", minKey, schema.Describe(x))
	}
	cores, err := get("coresMin", "coresMax", 1)
	if err != nil {
		return err
	}
	ram, err := get("ramMin", "ramMax", 256)
	if err != nil {
		return err
	}
	tmp, err := get("tmpdirMin", "tmpdirMax", 1024)
	if err != nil {
		return err
	}
	out, err := get("outdirMin", "outdirMax", 1024)
	if err != nil {
		return err
	}
	j.rt["cores"] = int64(math.Ceil(cores))
	j.rt["ram"] = int64(math.Ceil(ram))
	j.rt["tmpdirSize"] = int64(math.Ceil(tmp))
	j.rt["outdirSize"] = int64(math.Ceil(out))
	// The task asks only for what the tool stated: a scheduler would turn
	// the defaults into limits (256 MiB of memory would kill many tools).
	stated := func(minKey, maxKey string, v float64) float64 {
		if r[minKey] == nil && r[maxKey] == nil {
			return 0
		}
		return v
	}
	j.res = executors.Resources{
		Cores:     stated("coresMin", "coresMax", cores),
		RAMMiB:    int64(math.Ceil(stated("ramMin", "ramMax", ram))),
		TmpdirMiB: int64(math.Ceil(stated("tmpdirMin", "tmpdirMax", tmp))),
		OutdirMiB: int64(math.Ceil(stated("outdirMin", "outdirMax", out))),
	}
	return nil
}

// prepareTask stages the work directory and builds the command.
func (e *Engine) prepareTask(j *job) (*executors.Task, error) {
	if err := e.stageInputs(j); err != nil {
		return nil, err
	}
	switch {
	case j.image != nil:
		out, _ := j.pe.find("DockerRequirement")
		dir, _ := out["dockerOutputDirectory"].(string)
		j.enterView(containerView(j, dir))
	case e.opts.RemoteRoot != "":
		// One directory per job right under RemoteRoot (the executor
		// removes it after the job): the run's name and the job's number.
		root := path.Join(e.opts.RemoteRoot, filepath.Base(e.root)+"-"+filepath.Base(j.stage))
		j.enterView(remoteView(j, root))
	case e.opts.Sandbox:
		j.enterView(sandboxView(j))
	}
	if err := e.initialWorkDir(j); err != nil {
		return nil, err
	}
	b := &cmdBuilder{ev: j.ev, inputs: j.inputs, rt: j.rt}
	words, err := b.build(j.p)
	if err != nil {
		return nil, err
	}
	t := &executors.Task{ID: j.name, Dir: j.seen(j.outdir), Resources: j.res}
	if j.view != nil {
		t.Mounts = j.view.mounts
	}
	if j.image != nil {
		t.Image = j.image.Path
	}
	if t.Network, err = j.networkAccess(); err != nil {
		return nil, err
	}
	if _, shell := j.pe.find("ShellCommandRequirement"); shell {
		t.Argv = []string{"/bin/sh", "-c", shellJoin(words)}
	} else {
		for _, w := range words {
			t.Argv = append(t.Argv, w.text)
		}
	}
	if len(t.Argv) == 0 {
		return nil, errors.New("the command line is empty")
	}
	if t.Env, err = j.environment(); err != nil {
		return nil, err
	}
	if err := j.streams(t); err != nil {
		return nil, err
	}
	t.TimeLimit, err = j.timeLimit()
	return t, err
}

// networkAccess is CWL's NetworkAccess: whether the command may reach the
// network (executors that confine tasks cut it off otherwise).
func (j *job) networkAccess() (bool, error) {
	r, ok := j.pe.find("NetworkAccess")
	if !ok {
		return false, nil
	}
	v, err := j.eval(r["networkAccess"], nil)
	if err != nil {
		return false, fmt.Errorf("NetworkAccess: %w", err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("NetworkAccess: networkAccess must be true or false, got %s", schema.Describe(v))
	}
	return b, nil
}

// containerPath is the PATH of a command in a container, as images expect.
const containerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// environment is what the command sees: HOME and TMPDIR in the job's
// directories, the host's PATH, and EnvVarRequirement's variables.
func (j *job) environment() (map[string]string, error) {
	env := map[string]string{"HOME": j.seen(j.outdir), "TMPDIR": j.seen(j.tmpdir), "PATH": os.Getenv("PATH")}
	if j.image != nil {
		env["PATH"] = containerPath // the image's programs, not the host's
	}
	if env["PATH"] == "" {
		env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
	}
	r, ok := j.pe.find("EnvVarRequirement")
	if !ok {
		return env, nil
	}
	for _, d := range asList(r["envDef"]) {
		m, _ := d.(map[string]any)
		name, _ := m["envName"].(string)
		v, err := j.eval(m["envValue"], nil)
		if err != nil {
			return nil, fmt.Errorf("EnvVarRequirement %s: %w", name, err)
		}
		s, err := argText(v)
		if err != nil {
			return nil, err
		}
		env[name] = s
	}
	return env, nil
}

// streams evaluates stdin, stdout and stderr.
func (j *job) streams(t *executors.Task) error {
	for _, s := range []struct {
		name string
		v    any
		dst  *string
	}{{"stdin", j.p.Stdin, &t.Stdin}, {"stdout", j.p.Stdout, &t.Stdout}, {"stderr", j.p.Stderr, &t.Stderr}} {
		if s.v == nil {
			continue
		}
		v, err := j.eval(s.v, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s must be a file name, got %s", s.name, schema.Describe(v))
		}
		if s.name != "stdin" && (strings.Contains(str, "/") && !strings.HasPrefix(filepath.Clean(filepath.Join(j.outdir, str)), j.outdir+"/")) {
			return fmt.Errorf("%s %q must name a file inside the output directory", s.name, str)
		}
		*s.dst = str
	}
	if t.Stdout != "" {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(j.outdir, t.Stdout)), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func (j *job) timeLimit() (time.Duration, error) {
	r, ok := j.pe.find("ToolTimeLimit")
	if !ok {
		return 0, nil
	}
	v, err := j.eval(r["timelimit"], nil)
	if err != nil {
		return 0, fmt.Errorf("ToolTimeLimit: %w", err)
	}
	n, ok := v.(int64)
	if !ok || n < 0 {
		return 0, fmt.Errorf("ToolTimeLimit: timelimit must be a non-negative integer, got %s", schema.Describe(v))
	}
	return time.Duration(n) * time.Second, nil
}

// execute hands the task to the executor and waits for it.
func (e *Engine) execute(ctx context.Context, j *job, t *executors.Task, rec *provenance.Attempt) (executors.Result, error) {
	release, err := e.acquire(ctx)
	if err != nil {
		return executors.Result{}, err
	}
	defer release()
	log := e.opts.Log.With().Str("step", j.name).Logger()
	log.Debug().Strs("argv", t.Argv).Str("dir", t.Dir).Msg("starting")
	h, err := e.opts.Executor.Start(ctx, t)
	if err != nil {
		if errors.Is(err, executors.ErrNotFound) {
			return executors.Result{}, fmt.Errorf("%s: %w: %v", shortName(j.p), ErrPermanentFail, err)
		}
		return executors.Result{}, err
	}
	// Start returns once the command runs (an executor may hold it until
	// there is room), so the job counts as running from here.
	e.progress(ProgressEvent{Kind: JobStarted, Name: j.name})
	defer e.progress(ProgressEvent{Kind: JobEnded, Name: j.name})
	e.recordStart(ctx, rec, t, h, j.outdir)
	res, err := e.opts.Executor.Wait(ctx, h)
	if err != nil {
		if errors.Is(err, executors.ErrNotFound) {
			return res, fmt.Errorf("%s: %w: %v", shortName(j.p), ErrPermanentFail, err)
		}
		return res, err
	}
	log.Debug().Int("exit", res.ExitCode).Dur("took", res.Finished.Sub(res.Started)).Msg("finished")
	return res, nil
}

// classifyExit maps how the command ended onto success or a failure kind.
func classifyExit(p *schema.Process, j *job, res executors.Result) error {
	if res.TimedOut {
		return fmt.Errorf("%s (job %s) ran past its time limit and was stopped: %w", shortName(p), j.name, ErrPermanentFail)
	}
	success := p.SuccessCodes
	if success == nil {
		success = []int{0}
	}
	if res.Signal == "" && slices.Contains(success, res.ExitCode) {
		return nil
	}
	kind := ErrPermanentFail
	if slices.Contains(p.TemporaryFailCodes, res.ExitCode) {
		kind = ErrTemporaryFail
	}
	how := fmt.Sprintf("exited with code %d", res.ExitCode)
	if res.Signal != "" {
		how = "was killed by " + res.Signal
	}
	msg := fmt.Sprintf("%s (job %s) %s", shortName(p), j.name, how)
	if tail := strings.TrimSpace(res.StderrTail); tail != "" {
		msg += "; its stderr ends with: " + lastLines(tail, 3)
	}
	return fmt.Errorf("%s: %w", msg, kind)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
