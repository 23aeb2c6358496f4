package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/flow-cwl/flow/schema"
)

// A workflow runs as a data flow: every step waits for the steps it reads
// from, then gathers its inputs, scatters, evaluates valueFrom and when,
// and runs its process. Independent steps run at the same time; the first
// failure cancels the rest.

// wfState holds the values produced so far: workflow inputs by id, step
// outputs as "step/output".
type wfState struct {
	mu     sync.Mutex
	values map[string]any
}

func (s *wfState) get(id string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[id]
}

func (s *wfState) set(id string, v any) {
	s.mu.Lock()
	s.values[id] = v
	s.mu.Unlock()
}

func (e *Engine) runWorkflow(ctx context.Context, wf *schema.Process, inputs map[string]any, pe *procEnv, name string) (map[string]any, error) {
	g, err := Graph(wf)
	if err != nil {
		return nil, err
	}
	st := &wfState{values: make(map[string]any, len(inputs))}
	for k, v := range inputs {
		st.values[k] = v
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	e.progress(ProgressEvent{Kind: WorkflowStarted, Name: name, Jobs: len(wf.Steps)})
	done := make(map[string]chan struct{}, len(wf.Steps))
	for _, s := range wf.Steps {
		done[s.ID] = make(chan struct{})
	}
	var wg sync.WaitGroup
	for _, s := range wf.Steps {
		wg.Add(1)
		go func(s *schema.Step) {
			defer wg.Done()
			defer close(done[s.ID])
			for _, dep := range g.Dependencies(s.ID) {
				select {
				case <-done[dep]:
				case <-ctx.Done():
					return
				}
			}
			if ctx.Err() != nil {
				return
			}
			if err := e.runStep(ctx, wf, s, st, pe, name+"/"+s.ID); err != nil {
				cancel(err)
			}
		}(s)
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(wf.Outputs))
	for _, o := range wf.Outputs {
		v, err := gather(st, o.OutputSource, o.MultiSource, o.LinkMerge, o.PickValue)
		if err != nil {
			return nil, fmt.Errorf("%s: workflow output %q: %w", o.Pos, o.ID, err)
		}
		out[o.ID] = v
	}
	return out, nil
}

// gather computes the value of a step input or workflow output from its
// sources: one source as is, several (or a list) merged by linkMerge,
// then filtered by pickValue.
func gather(st *wfState, sources []string, multi bool, linkMerge, pickValue string) (any, error) {
	if len(sources) == 0 {
		return nil, nil
	}
	var v any
	// A one-item list of sources is a plain source unless linkMerge asks
	// for merging (then it is wrapped in a list like several sources).
	if len(sources) == 1 && !(multi && linkMerge != "") {
		v = st.get(sources[0])
	} else {
		list := make([]any, 0, len(sources))
		for _, src := range sources {
			sv := st.get(src)
			if linkMerge == "merge_flattened" {
				if l, ok := sv.([]any); ok {
					list = append(list, l...)
					continue
				}
			}
			list = append(list, sv)
		}
		v = list
	}
	return pick(v, pickValue)
}

// pick applies pickValue to a merged list.
func pick(v any, method string) (any, error) {
	if method == "" {
		return v, nil
	}
	l, ok := v.([]any)
	if !ok {
		return v, nil
	}
	var nonNull []any
	for _, it := range l {
		if it != nil {
			nonNull = append(nonNull, it)
		}
	}
	switch method {
	case "first_non_null":
		if len(nonNull) == 0 {
			return nil, fmt.Errorf("pickValue first_non_null: every source is null")
		}
		return nonNull[0], nil
	case "the_only_non_null":
		if len(nonNull) != 1 {
			return nil, fmt.Errorf("pickValue the_only_non_null: %d sources are not null, expected exactly one", len(nonNull))
		}
		return nonNull[0], nil
	case "all_non_null":
		if nonNull == nil {
			nonNull = []any{}
		}
		return nonNull, nil
	}
	return nil, fmt.Errorf("unknown pickValue %q", method)
}
