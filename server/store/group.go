package store

import (
	"sync"

	bolt "go.etcd.io/bbolt"
)

// groupCommit gathers writes that arrive while a transaction is being
// committed and commits them together in the next one: a lone event
// waits for one fsync, a flood of log lines from many runs shares them.
//
// It is provenance's groupCommit, which is bbolt's DB.Batch without its
// timer: Batch holds each batch open for 10ms, which would cap a runner
// appending events one after another at 100 a second.
type groupCommit struct {
	db      *bolt.DB
	mu      sync.Mutex
	queue   []pendingWrite
	running bool // a goroutine is committing the queue
}

type pendingWrite struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// do runs fn in a write transaction shared with other callers and returns
// once that transaction is committed. fn may run twice (see commit), so it
// must do the same thing each time.
func (g *groupCommit) do(fn func(*bolt.Tx) error) error {
	w := pendingWrite{fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if !g.running {
		g.running = true
		go g.drain()
	}
	g.mu.Unlock()
	return <-w.done
}

// drain commits the queue, batch after batch, until it is empty.
func (g *groupCommit) drain() {
	for {
		g.mu.Lock()
		batch := g.queue
		g.queue = nil
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.commit(batch)
	}
}

// commit runs a batch in one transaction. If any write fails the whole
// transaction is rolled back, so each write is then retried alone and only
// the one at fault reports an error.
func (g *groupCommit) commit(batch []pendingWrite) {
	err := g.db.Update(func(tx *bolt.Tx) error {
		for _, w := range batch {
			if err := w.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, w := range batch {
			w.done <- err
		}
		return
	}
	for _, w := range batch {
		w.done <- g.db.Update(w.fn)
	}
}
