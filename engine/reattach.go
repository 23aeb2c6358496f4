package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/schema"
)

// Jobs of a detached executor (Slurm) go on running when flow is killed.
// The engine records each one's handle as soon as it starts, so that a
// resumed run re-attaches to jobs still queued or running, and collects
// those that finished meanwhile, rather than submitting them again.

// recordStart writes the attempt of a just-started job of a detached
// executor, with the handle a later flow needs to find the job again.
func (e *Engine) recordStart(ctx context.Context, a *provenance.Attempt, t *executors.Task, h *executors.Handle, outdir string) {
	if a == nil || !e.opts.Executor.Capabilities().Detached {
		return
	}
	handle, err := json.Marshal(h)
	if err != nil {
		return
	}
	a.State, a.Handle, a.JobID = provenance.StepRunning, handle, h.JobID
	a.CommandLine, a.Env, a.WorkDir = t.Argv, t.Env, outdir
	if err := e.opts.Store.PutAttempt(context.WithoutCancel(ctx), a); err != nil {
		e.opts.Log.Warn().Err(err).Str("step", a.Job).Msg("cannot record the started job; a resume would submit it again")
	}
}

// runningBefore returns the attempt that left job name running in the run
// being resumed, if flow can re-attach to it.
func (e *Engine) runningBefore(name string) *provenance.Attempt {
	e.mu.Lock()
	a := e.latest[name]
	e.mu.Unlock()
	if a == nil || a.State != provenance.StepRunning || len(a.Handle) == 0 || a.WorkDir == "" || !e.opts.Executor.Capabilities().Detached {
		return nil
	}
	return a
}

// reattach waits for the job that prev started and collects its outputs
// from prev's directory. ok is false when the job cannot be found again;
// the caller then runs the job anew.
func (e *Engine) reattach(ctx context.Context, p *schema.Process, inputs map[string]any, pe *procEnv, ev *expr.Evaluator, name string, key *jobKey, prev *provenance.Attempt) (out map[string]any, task *executors.Task, res *executors.Result, err error, ok bool) {
	var h executors.Handle
	if json.Unmarshal(prev.Handle, &h) != nil {
		return nil, nil, nil, nil, false
	}
	log := e.opts.Log.With().Str("step", name).Str("job", h.JobID).Logger()
	if err := e.opts.Executor.Recover(ctx, &h); err != nil {
		log.Info().Err(err).Msg("cannot re-attach to the job; running it again")
		return nil, nil, nil, nil, false
	}
	log.Info().Msg("re-attached to the job started before flow stopped")
	j, err := e.jobIn(p, inputs, pe, ev, name, prev.WorkDir)
	if err != nil {
		return nil, nil, nil, err, true
	}
	j.ctx = ctx
	defer e.giveTmp(j.tmpdir)
	task = &executors.Task{ID: name, Argv: prev.CommandLine, Env: prev.Env, Dir: prev.WorkDir}
	result, err := e.opts.Executor.Wait(ctx, &h)
	res = &result
	if err != nil {
		return nil, task, res, err, true
	}
	out, err = e.finishJob(ctx, j, task, result, key)
	return out, task, res, err, true
}

// jobIn makes the job of name in an existing output directory (that of a
// job started before a restart).
func (e *Engine) jobIn(p *schema.Process, inputs map[string]any, pe *procEnv, ev *expr.Evaluator, name, outdir string) (*job, error) {
	if _, err := os.Stat(outdir); err != nil {
		return nil, fmt.Errorf("the directory of job %s is gone: %w", name, err)
	}
	tmpdir, err := e.takeTmp()
	if err != nil {
		return nil, err
	}
	j := &job{p: p, pe: pe, ev: ev, name: name, outdir: outdir, tmpdir: tmpdir,
		stage: filepath.Join(e.root, "stage", "reattached-"+sanitize(name)), inputs: inputs, ctx: context.Background()}
	j.rt = map[string]any{"outdir": outdir, "tmpdir": tmpdir}
	return j, j.resources()
}
