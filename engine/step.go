package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/schema"
)

// runStep runs one workflow step (all of its scatter jobs) and records its
// outputs in st.
func (e *Engine) runStep(ctx context.Context, wf *schema.Process, s *schema.Step, st *wfState, pe *procEnv, name string) error {
	spe := pe.with(s.Requirements, s.Hints)
	spe.discover = false
	ev, err := e.evaluator(spe)
	if err != nil {
		return fmt.Errorf("%s: %w", s.Pos, err)
	}
	inputs := make(map[string]any, len(s.In))
	for _, in := range s.In {
		v, err := gather(st, in.Source, in.MultiSource, in.LinkMerge, in.PickValue)
		if err != nil {
			return fmt.Errorf("%s: step %q input %q: %w", in.Pos, s.ID, in.ID, err)
		}
		if v == nil && in.HasDefault {
			v = deepCopy(in.Default)
		}
		inputs[in.ID] = withNames(v) // a scatter's outputs were slimmed
	}
	sj := &stepJob{e: e, s: s, pe: spe, ev: ev, name: name}
	var out map[string]any
	if len(s.Scatter) == 0 {
		out, err = sj.run(ctx, inputs)
	} else {
		out, err = sj.scatter(ctx, inputs)
	}
	skipped := int(sj.skipped.Load())
	e.progress(ProgressEvent{Kind: StepDone, Name: name, Jobs: sj.jobs, Skipped: skipped})
	if err != nil {
		return err
	}
	for _, o := range s.Out {
		st.set(s.ID+"/"+o, out[o])
	}
	switch {
	case sj.jobs > 0 && skipped == sj.jobs:
		e.opts.Log.Info().Str("step", name).Msg("step skipped: when is false")
	case skipped > 0:
		e.opts.Log.Info().Str("step", name).Int("skipped", skipped).Msg("step done")
	default:
		e.opts.Log.Info().Str("step", name).Msg("step done")
	}
	return nil
}

// stepJob runs a step's process for one set of inputs.
type stepJob struct {
	e    *Engine
	s    *schema.Step
	pe   *procEnv
	ev   *expr.Evaluator
	name string
	// jobs is how many jobs the step has; skipped, how many of them were
	// not run because their when was false, so the log can tell a
	// skipped step from a done one.
	jobs    int
	skipped atomic.Int64
}

// run applies valueFrom and when to one job's inputs and runs the process.
// A job whose when is false produces null outputs.
func (sj *stepJob) run(ctx context.Context, inputs map[string]any) (map[string]any, error) {
	sj.jobs = 1
	sj.e.progress(ProgressEvent{Kind: StepStarted, Name: sj.name, Jobs: 1})
	return sj.runNamed(ctx, inputs, sj.name)
}

func (sj *stepJob) runNamed(ctx context.Context, inputs map[string]any, name string) (map[string]any, error) {
	s := sj.s
	if err := sj.loadForExpressions(ctx, inputs); err != nil {
		return nil, err
	}
	final := inputs
	if hasValueFrom(s) {
		final = make(map[string]any, len(inputs))
		for k, v := range inputs {
			final[k] = v
		}
		for _, in := range s.In {
			if in.ValueFrom == "" {
				continue
			}
			v, err := sj.ev.Eval(in.ValueFrom, expr.Context{Inputs: inputs, Self: inputs[in.ID]})
			if err != nil {
				return nil, fmt.Errorf("%s: step %q input %q valueFrom: %w", in.Pos, s.ID, in.ID, err)
			}
			final[in.ID] = v
		}
	}
	if s.When != "" {
		v, err := sj.ev.Eval(s.When, expr.Context{Inputs: final})
		if err != nil {
			return nil, fmt.Errorf("%s: step %q when: %w", s.Pos, s.ID, err)
		}
		run, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: step %q: when must give true or false, got %s", s.Pos, s.ID, schema.Describe(v))
		}
		if !run {
			sj.skipped.Add(1)
			sj.e.opts.Log.Debug().Str("step", name).Msg("skipped: when is false")
			// Recorded, so that flow show lists the job rather than leave
			// it out as if the step had never been reached.
			if a := sj.e.newAttempt(s.Run, name); a != nil {
				sj.e.finishAttempt(ctx, a, provenance.StepSkipped, nil, nil, nil, nil, nil)
			}
			return map[string]any{}, nil
		}
	}
	out, err := sj.e.runProcess(ctx, s.Run, final, sj.pe, name)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func hasValueFrom(s *schema.Step) bool {
	for _, in := range s.In {
		if in.ValueFrom != "" {
			return true
		}
	}
	return false
}

// loadForExpressions completes files and loads contents that a step
// input asks for with loadContents, so valueFrom and when can read them.
func (sj *stepJob) loadForExpressions(ctx context.Context, inputs map[string]any) error {
	for _, in := range sj.s.In {
		if !in.LoadContents && in.LoadListing == "" {
			continue
		}
		v, err := sj.e.completeFiles(deepCopy(inputs[in.ID]), in.ID)
		if err != nil {
			return err
		}
		if in.LoadContents {
			for _, f := range topFiles(v) {
				if err := loadContents(f); err != nil {
					return err
				}
			}
		}
		if err := loadListings(ctx, v, in.LoadListing); err != nil {
			return err
		}
		inputs[in.ID] = v
	}
	return nil
}

// scatter runs one job per combination of the scattered inputs, at most
// scatterWidth at a time, and assembles the outputs into arrays.
func (sj *stepJob) scatter(ctx context.Context, inputs map[string]any) (map[string]any, error) {
	s := sj.s
	lists := make([][]any, len(s.Scatter))
	for i, id := range s.Scatter {
		l, ok := inputs[id].([]any)
		if !ok {
			return nil, fmt.Errorf("%s: step %q scatters over %q, which is %s, not a list", s.Pos, s.ID, id, schema.Describe(inputs[id]))
		}
		lists[i] = l
	}
	combos, shape, err := scatterCombos(s.ScatterMethod, lists)
	if err != nil {
		return nil, fmt.Errorf("%s: step %q: %w", s.Pos, s.ID, err)
	}
	sj.jobs = len(combos)
	sj.e.progress(ProgressEvent{Kind: StepStarted, Name: sj.name, Jobs: len(combos)})
	// Each job's outputs go straight into the step's arrays: a finished
	// job leaves nothing else behind (at 100,000 jobs, its output map
	// alone was a fifth of the memory).
	flat := make(map[string][]any, len(s.Out))
	for _, o := range s.Out {
		flat[o] = make([]any, len(combos))
	}
	if err := sj.runAll(ctx, inputs, combos, flat); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(s.Out))
	for _, o := range s.Out {
		out[o] = reshape(flat[o], shape)
	}
	return out, nil
}

// runAll runs the scatter jobs with a bounded pool of workers.
func (sj *stepJob) runAll(ctx context.Context, inputs map[string]any, combos [][]int, results map[string][]any) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	width := min(sj.e.scatterWidth(len(combos)), len(combos))
	for w := 0; w < width; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				job := make(map[string]any, len(inputs))
				for k, v := range inputs {
					job[k] = v
				}
				for k, id := range sj.s.Scatter {
					job[id] = inputs[id].([]any)[combos[i][k]]
				}
				jobName := fmt.Sprintf("%s/%d", sj.name, i)
				r, err := sj.runNamed(ctx, job, jobName)
				sj.e.progress(ProgressEvent{Kind: JobDone, Name: jobName})
				if err != nil {
					cancel(err)
					continue
				}
				for o, l := range results {
					l[i] = slimFiles(r[o]) // held until the step ends: see slim.go
				}
			}
		}()
	}
feed:
	for i := range combos {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// scatterCombos lists, for each job, the index into each scattered list,
// and the shape of the output arrays (one dimension per scattered input
// for nested_crossproduct, else one).
func scatterCombos(method string, lists [][]any) ([][]int, []int, error) {
	if len(lists) == 1 {
		method = "dotproduct"
	}
	switch method {
	case "", "dotproduct":
		n := len(lists[0])
		for _, l := range lists[1:] {
			if len(l) != n {
				return nil, nil, fmt.Errorf("dotproduct scatter needs lists of equal length, got %d and %d", n, len(l))
			}
		}
		combos := make([][]int, n)
		for i := range combos {
			c := make([]int, len(lists))
			for k := range c {
				c[k] = i
			}
			combos[i] = c
		}
		return combos, []int{n}, nil
	case "nested_crossproduct", "flat_crossproduct":
		shape := make([]int, len(lists))
		total := 1
		for i, l := range lists {
			shape[i] = len(l)
			total *= len(l)
		}
		combos := make([][]int, 0, total)
		cur := make([]int, len(lists))
		var rec func(d int)
		rec = func(d int) {
			if d == len(lists) {
				combos = append(combos, append([]int(nil), cur...))
				return
			}
			for i := range lists[d] {
				cur[d] = i
				rec(d + 1)
			}
		}
		rec(0)
		if method == "flat_crossproduct" {
			return combos, []int{total}, nil
		}
		return combos, shape, nil
	}
	return nil, nil, fmt.Errorf("unknown scatterMethod %q", method)
}

// reshape turns a flat list into nested lists of the given shape.
func reshape(flat []any, shape []int) any {
	if len(shape) <= 1 {
		return flat
	}
	n := shape[0]
	size := 1
	for _, d := range shape[1:] {
		size *= d
	}
	out := make([]any, n)
	for i := 0; i < n; i++ {
		out[i] = reshape(flat[i*size:(i+1)*size], shape[1:])
	}
	return out
}
