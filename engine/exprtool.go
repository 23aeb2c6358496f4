package engine

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/internal/confine"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/schema"
)

// runExpressionTool evaluates an ExpressionTool's expression; the object
// it returns is the output object.
func (e *Engine) runExpressionTool(ctx context.Context, p *schema.Process, inputs map[string]any, pe *procEnv, ev *expr.Evaluator, name string) (map[string]any, error) {
	rec := e.newAttempt(p, name)
	out, err := e.evalExpressionTool(p, inputs, ev)
	state := provenance.StepSucceeded
	if err != nil {
		state = provenance.StepFailed
	}
	e.finishAttempt(ctx, rec, state, inputs, out, nil, nil, err)
	return out, err
}

func (e *Engine) evalExpressionTool(p *schema.Process, inputs map[string]any, ev *expr.Evaluator) (map[string]any, error) {
	rt := map[string]any{"cores": int64(1), "ram": int64(256)}
	v, err := ev.Eval(p.Expression, expr.Context{Inputs: inputs, Runtime: rt})
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w: %v", p.Pos, shortName(p), ErrPermanentFail, err)
	}
	out, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s: the expression must return an object, got %s: %w", p.Pos, shortName(p), schema.Describe(v), ErrPermanentFail)
	}
	for k, val := range out {
		done, err := e.completeFiles(val, k)
		if err != nil {
			return nil, fmt.Errorf("%s: output %q: %w", shortName(p), k, err)
		}
		out[k] = done
	}
	// An ExpressionTool writes nothing but literals: any other file it
	// returns must be one of its inputs, or inside one.
	literals := filepath.Join(e.root, "literals")
	if r, err := filepath.EvalSymlinks(e.root); err == nil {
		literals = filepath.Join(r, "literals")
	}
	allowed := lazySources(func() []string { return inputSources(inputs) })
	for _, k := range sortedKeys(out) {
		err := walkFiles(out[k], func(m map[string]any) error {
			if p := localPath(m); p != "" {
				if real, err := confine.Resolve(p); err == nil && confine.Within(real, literals) {
					return nil
				}
			}
			return checkOutputFile(m, "", allowed, errNotAnInput)
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %s: output %q: %w", p.Pos, shortName(p), k, err)
		}
	}
	return out, nil
}
