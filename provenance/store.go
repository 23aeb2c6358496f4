package provenance

import (
	"context"
	"errors"
)

// ErrNotFound: no run, attempt, file or cache entry by that key.
var ErrNotFound = errors.New("not found")

// Store keeps runs, step attempts, file lineage and the step cache index.
// All methods are safe for concurrent use.
type Store interface {
	// CreateRun records a new run; UpdateRun replaces it (by ID).
	CreateRun(ctx context.Context, r *Run) error
	UpdateRun(ctx context.Context, r *Run) error
	// GetRun finds a run by its ID or by a unique prefix of it.
	GetRun(ctx context.Context, id string) (*Run, error)
	// ListRuns returns runs newest first, at most limit (0: all), older
	// than the run with ID before ("" for the newest).
	ListRuns(ctx context.Context, limit int, before string) ([]*Run, error)

	// PutAttempt records or replaces an attempt, keyed by (RunID, Job,
	// Attempt), and indexes its used and generated files.
	PutAttempt(ctx context.Context, a *Attempt) error
	// Attempts returns a run's attempts in the order they started.
	Attempts(ctx context.Context, runID string) ([]*Attempt, error)

	// RecordFiles notes where files with given contents now are (the
	// run's final outputs), for lineage by path.
	RecordFiles(ctx context.Context, runID string, files []FileRef) error
	// FileByPath returns the newest record of a file at an absolute path.
	FileByPath(ctx context.Context, path string) (FileRef, error)
	// WrittenBy returns the newest record of a file at an absolute path
	// with the run that wrote it there: the run that delivered it as a
	// final output (delivered true), or else the run whose step last used
	// or generated it there.
	WrittenBy(ctx context.Context, path string) (f FileRef, runID string, delivered bool, err error)
	// GeneratedBy returns the attempts that generated content sha1,
	// newest first.
	GeneratedBy(ctx context.Context, sha1 string) ([]*Attempt, error)

	// The step cache index.
	PutCache(ctx context.Context, e *CacheEntry) error
	GetCache(ctx context.Context, key string) (*CacheEntry, error)
	// HasCachePrefix reports whether any entry's key begins with prefix.
	HasCachePrefix(ctx context.Context, prefix string) (bool, error)
	ListCache(ctx context.Context) ([]*CacheEntry, error)
	DeleteCache(ctx context.Context, key string) error

	// Sync makes everything recorded so far durable on disk.
	Sync() error
	Close() error
}
