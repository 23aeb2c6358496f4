package provenance

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Shared is a Store that holds the database file only while it reads or
// writes. bbolt lets one process at a time open a file for writing; a flow
// run that kept the file open would make every other run wait until it
// ended. Shared opens the file when calls come, serves them in groups (the
// writes of a group share commits), and lets the file go once no call has
// come for IdleRelease, or once it has held it for HoldAtMost and another
// process is waiting for it. So a busy run that has the file to itself
// opens it once, and another process waits about HoldAtMost at most,
// never for a whole run.
//
// Closing does not fsync (see Open for why a crash of flow still cannot
// lose a committed record); Sync and Close make everything durable.
type Shared struct {
	path string
	opts Options

	mu      sync.Mutex
	pending []sharedCall
	serving bool
	wake    chan struct{} // a call arrived while the file is held
	opens   atomic.Int64  // times the file was opened, for tests

	releaseErr error // from closing the file after its callers had heard back
}

// How long Shared keeps the database open: until calls pause for
// IdleRelease, and no longer than HoldAtMost while another process waits.
// Past HoldAtMost it looks for waiters every IdleRelease.
//
// Remap bounds what a long busy run keeps of the file in memory: bbolt
// maps the file, and every page a write reads on its way to its key stays
// in flow's resident memory while the file is open (the step cache's keys
// are digests, spread over the whole index, so a 100,000-job run would
// end up with most of the file resident). Letting the file go and opening
// it again every Remap costs about a millisecond.
const (
	IdleRelease = 10 * time.Millisecond
	HoldAtMost  = 25 * time.Millisecond
	Remap       = time.Second
)

type sharedCall struct {
	fn    func(*DB) error
	done  chan error
	close bool // let the file go before answering
}

var _ Store = (*Shared)(nil)

// OpenShared checks that the database at path opens (creating it if
// needed) and returns a Shared store for it.
func OpenShared(path string, opts Options) (*Shared, error) {
	db, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	if err := db.release(); err != nil {
		return nil, err
	}
	return &Shared{path: path, opts: opts, wake: make(chan struct{}, 1)}, nil
}

// Path is the database file.
func (s *Shared) Path() string { return s.path }

// with runs fn on the open database, in the next group of calls.
func (s *Shared) with(fn func(*DB) error) error { return s.call(sharedCall{fn: fn}) }

func (s *Shared) call(c sharedCall) error {
	c.done = make(chan error, 1)
	s.mu.Lock()
	s.pending = append(s.pending, c)
	if !s.serving {
		s.serving = true
		go s.serve()
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return <-c.done
}

// serve opens the database, serves groups of calls while they keep
// coming, and closes it; it repeats while calls are pending. A group's
// callers hear back as soon as it has run, so a caller that makes one call
// after another finds the file still open.
func (s *Shared) serve() {
	for {
		group := s.take()
		if len(group) == 0 {
			return
		}
		db, err := Open(s.path, s.opts)
		if err != nil {
			fail(group, err)
			continue
		}
		s.opens.Add(1)
		opened := time.Now()
		lookForWaiters := opened.Add(HoldAtMost)
		for len(group) > 0 {
			errs := runGroup(db, group)
			if closes(group) {
				s.letGo(db)
				deliver(group, errs, s.takeReleaseError())
				break
			}
			deliver(group, errs, nil)
			if time.Since(opened) > Remap {
				s.letGo(db)
				break
			}
			if now := time.Now(); now.After(lookForWaiters) {
				if othersWaiting(s.path) {
					s.letGo(db)
					// A process blocked on the turn lock wakes now; give it
					// a moment to take its turn before this one takes another.
					time.Sleep(time.Millisecond)
					break
				}
				lookForWaiters = now.Add(IdleRelease)
			}
			if group = s.takeWithin(IdleRelease); len(group) == 0 {
				s.letGo(db)
			}
		}
	}
}

// letGo closes the database. Its callers have heard back already, and a
// failure to close may have lost their writes: the error is kept for the
// next Close to report.
func (s *Shared) letGo(db *DB) {
	if err := db.release(); err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.releaseErr = errors.Join(s.releaseErr, err)
	}
}

func (s *Shared) takeReleaseError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.releaseErr
	s.releaseErr = nil
	return err
}

func closes(group []sharedCall) bool {
	for _, c := range group {
		if c.close {
			return true
		}
	}
	return false
}

// take returns the pending calls, or marks the server idle when there are
// none (under the lock, so a new call starts a new server).
func (s *Shared) take() []sharedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	group := s.pending
	s.pending = nil
	if len(group) == 0 {
		s.serving = false
	}
	return group
}

// takeWithin waits up to d for calls to arrive. A wake-up may be left over
// from a call already served, so it looks again until d has passed.
func (s *Shared) takeWithin(d time.Duration) []sharedCall {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		group := s.pending
		s.pending = nil
		s.mu.Unlock()
		if len(group) > 0 {
			return group
		}
		select {
		case <-s.wake:
		case <-deadline.C:
			s.mu.Lock()
			defer s.mu.Unlock()
			group, s.pending = s.pending, nil
			return group
		}
	}
}

// runGroup runs the calls concurrently, so their writes share commits.
func runGroup(db *DB, group []sharedCall) []error {
	errs := make([]error, len(group))
	var wg sync.WaitGroup
	for i, c := range group {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.fn(db)
		}()
	}
	wg.Wait()
	return errs
}

func deliver(group []sharedCall, errs []error, extra error) {
	for i, c := range group {
		c.done <- errors.Join(errs[i], extra)
	}
}

func fail(group []sharedCall, err error) {
	for _, c := range group {
		c.done <- err
	}
}

func (s *Shared) CreateRun(ctx context.Context, r *Run) error {
	return s.with(func(db *DB) error { return db.CreateRun(ctx, r) })
}

func (s *Shared) UpdateRun(ctx context.Context, r *Run) error {
	return s.with(func(db *DB) error { return db.UpdateRun(ctx, r) })
}

func (s *Shared) GetRun(ctx context.Context, id string) (r *Run, err error) {
	err = s.with(func(db *DB) error { r, err = db.GetRun(ctx, id); return err })
	return r, err
}

func (s *Shared) ListRuns(ctx context.Context, limit int, before string) (rs []*Run, err error) {
	err = s.with(func(db *DB) error { rs, err = db.ListRuns(ctx, limit, before); return err })
	return rs, err
}

func (s *Shared) PutAttempt(ctx context.Context, a *Attempt) error {
	return s.with(func(db *DB) error { return db.PutAttempt(ctx, a) })
}

func (s *Shared) Attempts(ctx context.Context, runID string) (as []*Attempt, err error) {
	err = s.with(func(db *DB) error { as, err = db.Attempts(ctx, runID); return err })
	return as, err
}

func (s *Shared) RecordFiles(ctx context.Context, runID string, files []FileRef) error {
	return s.with(func(db *DB) error { return db.RecordFiles(ctx, runID, files) })
}

func (s *Shared) FileByPath(ctx context.Context, path string) (f FileRef, err error) {
	err = s.with(func(db *DB) error { f, err = db.FileByPath(ctx, path); return err })
	return f, err
}

func (s *Shared) WrittenBy(ctx context.Context, path string) (f FileRef, runID string, delivered bool, err error) {
	err = s.with(func(db *DB) error { f, runID, delivered, err = db.WrittenBy(ctx, path); return err })
	return f, runID, delivered, err
}

func (s *Shared) GeneratedBy(ctx context.Context, sha1 string) (as []*Attempt, err error) {
	err = s.with(func(db *DB) error { as, err = db.GeneratedBy(ctx, sha1); return err })
	return as, err
}

func (s *Shared) PutCache(ctx context.Context, e *CacheEntry) error {
	return s.with(func(db *DB) error { return db.PutCache(ctx, e) })
}

func (s *Shared) GetCache(ctx context.Context, key string) (e *CacheEntry, err error) {
	err = s.with(func(db *DB) error { e, err = db.GetCache(ctx, key); return err })
	return e, err
}

func (s *Shared) ListCache(ctx context.Context) (es []*CacheEntry, err error) {
	err = s.with(func(db *DB) error { es, err = db.ListCache(ctx); return err })
	return es, err
}

func (s *Shared) DeleteCache(ctx context.Context, key string) error {
	return s.with(func(db *DB) error { return db.DeleteCache(ctx, key) })
}

// Sync opens the database once more and flushes it to disk.
func (s *Shared) Sync() error {
	return s.with(func(db *DB) error { return db.Sync() })
}

// Close makes everything recorded durable and lets the file go.
func (s *Shared) Close() error {
	return s.call(sharedCall{fn: func(db *DB) error { return db.Sync() }, close: true})
}
