package local

import (
	"context"
	"math"
	"slices"
	"sync"
)

// amount is what a task takes from the pool. Cores are counted in
// thousandths, so that fractional requests add up exactly.
type amount struct {
	milliCores int64
	ramMiB     int64
}

// toMilli converts cores to thousandths, rounding up.
func toMilli(cores float64) int64 { return int64(math.Ceil(cores*1000 - 1e-6)) }

// pool hands out cores, memory and task slots first come, first served.
// A task that fits when nobody is queued takes its share at once, with no
// allocation and no channel; others queue and are woken by release.
type pool struct {
	mu       sync.Mutex
	total    amount
	maxTasks int // 0: no cap
	used     amount
	tasks    int
	queue    []*waiter
}

type waiter struct {
	need     amount
	ready    chan struct{}
	admitted bool // set, under pool.mu, just before ready is closed
}

// newPool makes a pool; ramMiB 0 means memory is not limited.
func newPool(cores float64, ramMiB int64, maxTasks int) *pool {
	if ramMiB <= 0 {
		ramMiB = math.MaxInt64
	}
	return &pool{total: amount{toMilli(cores), ramMiB}, maxTasks: maxTasks}
}

// clamp trims a request to the whole machine, so that a task asking for
// more than there is still runs (alone) instead of waiting forever. It
// reports whether it had to.
func (p *pool) clamp(need amount) (amount, bool) {
	over := need.milliCores > p.total.milliCores || need.ramMiB > p.total.ramMiB
	need.milliCores = min(need.milliCores, p.total.milliCores)
	need.ramMiB = min(need.ramMiB, p.total.ramMiB)
	return need, over
}

// acquire takes need from the pool, waiting for its turn until ctx ends.
// need must already be clamped.
func (p *pool) acquire(ctx context.Context, need amount) error {
	p.mu.Lock()
	if len(p.queue) == 0 && p.fits(need) {
		p.take(need)
		p.mu.Unlock()
		return nil
	}
	w := &waiter{need: need, ready: make(chan struct{})}
	p.queue = append(p.queue, w)
	p.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.admitted { // admitted while we were giving up: hand it back
		p.give(need)
	} else {
		p.queue = slices.DeleteFunc(p.queue, func(x *waiter) bool { return x == w })
	}
	// Either way the head of the queue may fit now.
	p.admit()
	return ctx.Err()
}

// release gives need back and admits whoever now fits.
func (p *pool) release(need amount) {
	p.mu.Lock()
	p.give(need)
	p.admit()
	p.mu.Unlock()
}

// force takes need without waiting, even past the total: a recovered task
// is already running whether or not there is room for it.
func (p *pool) force(need amount) {
	p.mu.Lock()
	p.take(need)
	p.mu.Unlock()
}

// admit wakes queued tasks in order for as long as the head fits.
func (p *pool) admit() {
	for len(p.queue) > 0 && p.fits(p.queue[0].need) {
		w := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.take(w.need)
		w.admitted = true
		close(w.ready)
	}
}

func (p *pool) fits(need amount) bool {
	if p.maxTasks > 0 && p.tasks >= p.maxTasks {
		return false
	}
	return p.used.milliCores+need.milliCores <= p.total.milliCores &&
		p.used.ramMiB <= p.total.ramMiB-need.ramMiB
}

func (p *pool) take(need amount) {
	p.used.milliCores += need.milliCores
	p.used.ramMiB += need.ramMiB
	p.tasks++
}

func (p *pool) give(need amount) {
	p.used.milliCores -= need.milliCores
	p.used.ramMiB -= need.ramMiB
	p.tasks--
}
