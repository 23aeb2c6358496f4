package provenance

import (
	"context"
	"sync"
	"time"
)

// RecorderQueue is how many attempts a Recorder holds before Put waits:
// enough for the jobs that finish while one batch is written, few enough
// that a slow disk slows the run down rather than filling memory.
const RecorderQueue = 4096

// recorderBatch is the most attempts written together, and
// recorderGather how long the writer waits for a batch to fill: each
// commit rewrites the pages it touches, so a few big ones cost far less
// than one per job, and no job waits for them.
const (
	recorderBatch  = 512
	recorderGather = 50 * time.Millisecond
)

// Recorder writes job attempts off the path of the jobs. Put queues an
// attempt and returns at once; one goroutine writes what has queued, all
// together (the store's shared transactions commit them as one), while
// the jobs go on. Flush waits until everything queued has been written:
// the engine flushes before a run ends, so a clean exit loses no finished
// job's record. A killed flow loses the records still queued, which a
// resume redoes: the jobs' outputs are in the step cache, written before
// their records, and are found there again.
type Recorder struct {
	store   Store
	onError func(*Attempt, error)
	queue   chan *Attempt
	sending sync.RWMutex  // held by Put while it sends, by Close to close queue
	hurry   chan struct{} // Flush wants the batch being gathered written now

	mu      sync.Mutex
	written *sync.Cond
	pending int // queued or being written
	closed  bool
	stopped chan struct{}
}

// NewRecorder starts a recorder writing to store; onError hears about
// each attempt that could not be written.
func NewRecorder(store Store, onError func(*Attempt, error)) *Recorder {
	r := &Recorder{store: store, onError: onError, queue: make(chan *Attempt, RecorderQueue), hurry: make(chan struct{}, 1), stopped: make(chan struct{})}
	r.written = sync.NewCond(&r.mu)
	go r.write()
	return r
}

// Put queues a for writing; a must not change afterwards. It waits only
// when RecorderQueue attempts are queued already. After Close, Put writes
// a itself.
func (r *Recorder) Put(a *Attempt) {
	r.sending.RLock()
	defer r.sending.RUnlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.writeBatch([]*Attempt{a})
		return
	}
	r.pending++
	r.mu.Unlock()
	r.queue <- a
}

// Flush waits until every attempt queued before it has been written.
func (r *Recorder) Flush() {
	select {
	case r.hurry <- struct{}{}:
	default:
	}
	r.mu.Lock()
	for r.pending > 0 {
		r.written.Wait()
	}
	r.mu.Unlock()
}

// Close writes what is queued and stops the recorder.
func (r *Recorder) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	r.sending.Lock()
	close(r.queue)
	r.sending.Unlock()
	<-r.stopped
}

func (r *Recorder) write() {
	defer close(r.stopped)
	for a := range r.queue {
		batch := r.gather(a)
		r.writeBatch(batch)
		r.mu.Lock()
		r.pending -= len(batch)
		r.written.Broadcast()
		r.mu.Unlock()
	}
}

// gather collects a batch that starts with a: what arrives within
// recorderGather, until the batch is full, Flush hurries it, or the queue
// is closed.
func (r *Recorder) gather(a *Attempt) []*Attempt {
	batch := []*Attempt{a}
	timer := time.NewTimer(recorderGather)
	defer timer.Stop()
	for len(batch) < recorderBatch {
		select {
		case b, ok := <-r.queue:
			if !ok {
				return batch
			}
			batch = append(batch, b)
		case <-r.hurry:
			return r.drain(batch)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// drain adds to batch what is queued now, up to a full batch.
func (r *Recorder) drain(batch []*Attempt) []*Attempt {
	for len(batch) < recorderBatch {
		select {
		case b, ok := <-r.queue:
			if !ok {
				return batch
			}
			batch = append(batch, b)
		default:
			return batch
		}
	}
	return batch
}

// writeBatch writes attempts concurrently, so that the store's shared
// transactions take them together. A record is written even when the run
// is being cancelled: how a job ended is most worth knowing then.
func (r *Recorder) writeBatch(batch []*Attempt) {
	var wg sync.WaitGroup
	for _, a := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.store.PutAttempt(context.Background(), a); err != nil && r.onError != nil {
				r.onError(a, err)
			}
		}()
	}
	wg.Wait()
}
