package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/schema"
)

// runProcess runs any kind of process on its (not yet bound) inputs and
// returns its outputs. name identifies the job in logs and directories.
func (e *Engine) runProcess(ctx context.Context, p *schema.Process, inputs map[string]any, outer *procEnv, name string) (map[string]any, error) {
	pe := outer.with(p.Requirements, p.Hints)
	if err := e.checkContainers(pe); err != nil {
		return nil, err
	}
	ev, err := e.evaluator(pe)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Pos, err)
	}
	bound, err := e.bindInputs(ctx, p, inputs, pe, ev)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	switch p.Class {
	case "CommandLineTool":
		out, err = e.runTool(ctx, p, bound, pe, ev, name)
	case "ExpressionTool":
		out, err = e.runExpressionTool(ctx, p, bound, pe, ev, name)
	case "Workflow":
		out, err = e.runWorkflow(ctx, p, bound, pe, name)
	default:
		return nil, &schema.Error{Pos: p.Pos, Field: "class", Msg: fmt.Sprintf("flow cannot run a %s (it only describes an interface)", p.Class), Err: schema.ErrUnsupported}
	}
	if err != nil {
		return nil, err
	}
	return checkOutputs(p, out)
}

// checkOutputs validates an output object against the declared outputs,
// dropping undeclared keys and filling absent optional outputs with null.
func checkOutputs(p *schema.Process, out map[string]any) (map[string]any, error) {
	res := make(map[string]any, len(p.Outputs))
	for _, o := range p.Outputs {
		v := out[o.ID]
		// An Any output may be null: tools declare Any for "whatever the
		// expression gives", which includes nothing.
		if !matches(o.Type, v) && !(v == nil && o.Type.Kind == schema.TAny) {
			return nil, fmt.Errorf("%s: output %q of %s: %w: %v", o.Pos, o.ID, shortName(p), ErrPermanentFail, typeError("the output", o.Type, v))
		}
		res[o.ID] = coerce(o.Type, v)
	}
	return res, nil
}

func shortName(p *schema.Process) string {
	id := p.ID
	if i := strings.LastIndexAny(id, "/#"); i >= 0 {
		id = id[i+1:]
	}
	return p.Class + " " + id
}

// evaluator returns the (shared, cached) expression evaluator for the
// InlineJavascriptRequirement in force.
func (e *Engine) evaluator(pe *procEnv) (*expr.Evaluator, error) {
	r, js := pe.find("InlineJavascriptRequirement")
	var lib []string
	if js {
		for _, l := range asList(r["expressionLib"]) {
			if s, ok := l.(string); ok {
				lib = append(lib, s)
			}
		}
	}
	key := fmt.Sprintf("%v\x00%s", js, strings.Join(lib, "\x00"))
	if ev, ok := e.evaluators.Load(key); ok {
		return ev.(*expr.Evaluator), nil
	}
	ev, err := expr.New(expr.Options{JavaScript: js, Lib: lib})
	if err != nil {
		return nil, err
	}
	actual, _ := e.evaluators.LoadOrStore(key, ev)
	return actual.(*expr.Evaluator), nil
}

// asList treats a single value as a list of one; nil is an empty list.
func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}
