package provenance

import (
	"context"
	"errors"
	"sync"
)

// Shared is a Store that holds the database file only while it reads or
// writes. bbolt lets one process at a time open a file for writing; a flow
// run that kept the file open would make every other run wait until it
// ended. Shared opens the file for each group of calls instead: callers
// that arrive while a group is being served join the next group, so a busy
// run opens the file a few hundred times a second at most, and another
// process waits for one group's transactions, never for a whole run.
//
// Opening costs about a tenth of a millisecond; closing does not fsync
// (see Open for why a crash of flow still cannot lose a committed record).
// Sync and Close make everything durable.
type Shared struct {
	path string
	opts Options

	mu      sync.Mutex
	pending []sharedCall
	serving bool
}

type sharedCall struct {
	fn   func(*DB) error
	done chan error
}

var _ Store = (*Shared)(nil)

// OpenShared checks that the database at path opens (creating it if
// needed) and returns a Shared store for it.
func OpenShared(path string, opts Options) (*Shared, error) {
	db, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return &Shared{path: path, opts: opts}, nil
}

// Path is the database file.
func (s *Shared) Path() string { return s.path }

// with runs fn on the open database, in the next group of calls.
func (s *Shared) with(fn func(*DB) error) error {
	done := make(chan error, 1)
	s.mu.Lock()
	s.pending = append(s.pending, sharedCall{fn: fn, done: done})
	if !s.serving {
		s.serving = true
		go s.serve()
	}
	s.mu.Unlock()
	return <-done
}

// serve opens the database once per group of pending calls until none
// are left.
func (s *Shared) serve() {
	for {
		s.mu.Lock()
		group := s.pending
		s.pending = nil
		if len(group) == 0 {
			s.serving = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.serveGroup(group)
	}
}

// serveGroup opens the database, runs the group's calls concurrently (so
// writes share commits in the database's group commit) and closes it. A
// failure to close is every caller's failure: their writes may be lost.
func (s *Shared) serveGroup(group []sharedCall) {
	db, err := Open(s.path, s.opts)
	if err != nil {
		for _, c := range group {
			c.done <- err
		}
		return
	}
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
	cerr := db.release()
	for i, c := range group {
		c.done <- errors.Join(errs[i], cerr)
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

// Close makes everything recorded durable; the store holds nothing open.
func (s *Shared) Close() error { return s.Sync() }
