package executors

import (
	"context"
	"sync"
	"time"
)

// Coalesce returns an Executor whose Start gathers the tasks started close
// together into one StartBatch of ex: the engine starts a scatter's jobs
// one by one, from many goroutines, and a scheduler wants them as one job
// array. A batch goes out once no task has arrived for idle, or maxWait
// after its first task, or when it holds max tasks.
func Coalesce(ex BatchExecutor, idle, maxWait time.Duration, max int) Executor {
	return &coalescer{BatchExecutor: ex, idle: idle, maxWait: maxWait, max: max}
}

// BatchExecutor is an Executor that can also start tasks in batches.
type BatchExecutor interface {
	Executor
	BatchStarter
}

type coalescer struct {
	BatchExecutor
	idle, maxWait time.Duration
	max           int

	mu      sync.Mutex
	pending []*startCall
	timer   *time.Timer
	first   time.Time
}

type startCall struct {
	ctx  context.Context
	task *Task
	done chan startResult
}

type startResult struct {
	h   *Handle
	err error
}

// Start queues t for the next batch and returns its handle once the batch
// is submitted.
func (c *coalescer) Start(ctx context.Context, t *Task) (*Handle, error) {
	call := &startCall{ctx: ctx, task: t, done: make(chan startResult, 1)}
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.first = time.Now()
	}
	c.pending = append(c.pending, call)
	switch {
	case len(c.pending) >= c.max:
		batch := c.take()
		c.mu.Unlock()
		go c.submit(batch)
	default:
		wait := min(c.idle, c.maxWait-time.Since(c.first))
		if c.timer == nil {
			c.timer = time.AfterFunc(wait, c.flush)
		} else {
			c.timer.Reset(wait)
		}
		c.mu.Unlock()
	}
	select {
	case r := <-call.done:
		return r.h, r.err
	case <-ctx.Done():
		// The batch may still start the task; its handle is lost to the
		// caller, so stop it once it is known.
		go func() {
			if r := <-call.done; r.err == nil {
				_ = c.Cancel(context.Background(), r.h)
			}
		}()
		return nil, ctx.Err()
	}
}

func (c *coalescer) flush() {
	c.mu.Lock()
	batch := c.take()
	c.mu.Unlock()
	c.submit(batch)
}

// take empties the queue; the caller holds c.mu.
func (c *coalescer) take() []*startCall {
	batch := c.pending
	c.pending = nil
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	return batch
}

func (c *coalescer) submit(batch []*startCall) {
	if len(batch) == 0 {
		return
	}
	tasks := make([]*Task, len(batch))
	for i, b := range batch {
		tasks[i] = b.task
	}
	handles, err := c.StartBatch(context.Background(), tasks)
	for i, b := range batch {
		if err != nil {
			b.done <- startResult{err: err}
			continue
		}
		b.done <- startResult{h: handles[i]}
	}
}
