package executors

import "context"

// Layer is an executor made of another: it turns each task into the task
// that inner really runs (a container runtime's command line, a sandbox's)
// and passes everything else on. The container and sandbox layers are
// Layers; stacking them is stacking Layers.
type Layer struct {
	Inner Executor
	// Rewrite returns the task inner runs in t's place, or an error that
	// refuses t. It must not modify t.
	Rewrite func(t *Task) (*Task, error)
	// Capabilities, when set, changes what inner says it can do.
	Capabilities func(Capabilities) Capabilities
	// Result, when set, changes how inner reports a task's end.
	Result func(Result) Result
}

// Executor returns the layer as an Executor, a BatchStarter when Inner is
// one: a batch is rewritten whole before any of it starts.
func (l Layer) Executor() Executor {
	w := &layered{l}
	if b, ok := l.Inner.(BatchStarter); ok {
		return &batchLayered{layered: w, batch: b}
	}
	return w
}

type layered struct{ l Layer }

type batchLayered struct {
	*layered
	batch BatchStarter
}

var (
	_ Executor     = (*layered)(nil)
	_ BatchStarter = (*batchLayered)(nil)
)

// Name is Inner's: handles name the executor that really runs the task.
func (w *layered) Name() string { return w.l.Inner.Name() }

func (w *layered) Capabilities() Capabilities {
	c := w.l.Inner.Capabilities()
	if w.l.Capabilities != nil {
		c = w.l.Capabilities(c)
	}
	return c
}

func (w *layered) Start(ctx context.Context, t *Task) (*Handle, error) {
	rt, err := w.l.Rewrite(t)
	if err != nil {
		return nil, err
	}
	return w.l.Inner.Start(ctx, rt)
}

func (b *batchLayered) StartBatch(ctx context.Context, ts []*Task) ([]*Handle, error) {
	rts := make([]*Task, len(ts))
	for i, t := range ts {
		rt, err := b.l.Rewrite(t)
		if err != nil {
			return nil, err
		}
		rts[i] = rt
	}
	return b.batch.StartBatch(ctx, rts)
}

func (w *layered) Wait(ctx context.Context, h *Handle) (Result, error) {
	res, err := w.l.Inner.Wait(ctx, h)
	if w.l.Result != nil {
		res = w.l.Result(res)
	}
	return res, err
}

func (w *layered) Cancel(ctx context.Context, h *Handle) error { return w.l.Inner.Cancel(ctx, h) }

func (w *layered) Recover(ctx context.Context, h *Handle) error { return w.l.Inner.Recover(ctx, h) }
