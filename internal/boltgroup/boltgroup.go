// Package boltgroup commits bbolt writes that arrive together in one
// transaction, for the stores that take many small writes from many
// goroutines (provenance's job records, flowd's events).
package boltgroup

import (
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Committer gathers writes that arrive while a transaction is being
// committed and commits them together in the next one.
//
// This is bbolt's DB.Batch without its timer. Batch holds every batch
// open for MaxBatchDelay (10ms by default) before committing, so an engine
// recording attempts one after another would pay 10ms a record (10s for a
// 1,000-job scatter recorded in a loop). Here the first write is committed
// at once, and the writes that queue up meanwhile (the other jobs of a
// scatter) share the next commit: a lone writer waits for one commit, a
// crowd for about two.
type Committer struct {
	DB      *bolt.DB
	mu      sync.Mutex
	queue   []pendingWrite
	running bool // a goroutine is committing the queue
}

type pendingWrite struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// Do runs fn in a write transaction shared with other callers and returns
// once that transaction is committed. fn may run twice (see commit), so it
// must do the same thing each time.
func (g *Committer) Do(fn func(*bolt.Tx) error) error {
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
func (g *Committer) drain() {
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
func (g *Committer) commit(batch []pendingWrite) {
	err := g.DB.Update(func(tx *bolt.Tx) error {
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
		w.done <- g.DB.Update(w.fn)
	}
}
