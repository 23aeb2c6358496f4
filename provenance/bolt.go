package provenance

// The bbolt file holds these buckets (keys in <>, values after →):
//
//	meta/
//	  schema_version → uint64 big-endian (currently 2)
//	runs/
//	  <runID> → JSON Run                    runIDs sort by time (NewRunID)
//	attempts/
//	  <runID>\x00<job>\x00<attempt uint32 BE> → JSON Attempt
//	generated/
//	  <sha1>\x00<runID>\x00<job>\x00<attempt uint32 BE> → empty
//	                                        who made this content
//	paths/
//	  <absolute path> → <recorded uint64 BE Unix ns> JSON pathRecord
//	                                        newest known content at a path
//	cache/
//	  <cache key> → JSON CacheEntry
//	values/                                 (since version 2)
//	  <hex SHA-256 of the bytes> → gzip of the bytes
//	                                        large strings and large values of
//	                                        runs, attempts and cache entries
//	delivered/                              (since version 2)
//	  <absolute path> → <recorded uint64 BE Unix ns> JSON pathRecord
//	                                        the run that last delivered a final
//	                                        output there (RecordFiles)
//	sums/                                   (added within version 2: a flow
//	                                        without it ignores the bucket)
//	  <dev><ino><size><mtime ns><ctime ns>, each uint64 BE → 20-byte SHA-1
//	                                        the checksum memo (sums.go)
//
// Version 2 added the values and delivered buckets: records written since hold their
// CWL values packed (values.go, "values": 2 in the record), and records
// written before are read as they are. Version 1 files are upgraded in
// place when a writer opens them; a flow that knows only version 1
// refuses a version 2 file rather than misread its records.
//
// Composite keys put every attempt of a run, and every maker of a content,
// under one contiguous prefix, read with a single cursor scan.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flow-cwl/flow/internal/boltgroup"
)

// schemaVersion is the layout drawn above. A change that an older flow
// would misread bumps it, and Open migrates older files forward.
const schemaVersion = 2

// DefaultTimeout is how long Open waits for another process's lock.
const DefaultTimeout = 5 * time.Second

// ErrLocked: another process holds the database (bbolt allows one writer
// process, or any number of readers, at a time).
var ErrLocked = errors.New("database locked by another process")

// ErrAmbiguous: a run ID prefix matches more than one run.
var ErrAmbiguous = errors.New("ambiguous run ID prefix")

// Options tunes Open.
type Options struct {
	// Timeout is how long to wait for the file lock held by another flow
	// process: 0 means DefaultTimeout, a negative value waits for ever.
	Timeout time.Duration
	// ReadOnly opens the file with a shared lock, which many readers can
	// hold at once but which waits while a writer holds the file.
	ReadOnly bool
	// Sync makes every commit wait for fsync. Without it a commit is safe
	// from any crash of flow itself, but not from power loss; see Open.
	Sync bool
}

// DB is the bbolt Store. Open one per process and share it.
type DB struct {
	db       *bolt.DB
	group    *boltgroup.Committer // PutAttempt's shared transactions
	path     string
	readOnly bool
	endTurn  func() // lets the next flow process have the database
}

var _ Store = (*DB)(nil)

// Open opens or creates the provenance database at path.
//
// Unless opts.Sync is set, commits are not fsynced (bbolt's NoSync). That
// is what keeps a 1,000-way scatter from queueing behind 1,000 fsyncs, and
// it costs nothing against crashes of flow itself, kill -9 included: bbolt
// writes a transaction's pages with write(2) and only then its meta page,
// so once Commit returns everything is in the kernel's page cache, which
// outlives the process; and a process dying half-way through a commit never
// wrote the meta page that would point at the half-written pages. What
// NoSync gives up is power loss or a kernel crash, where the page cache is
// lost and the disk may hold the meta page without the pages it points to;
// Sync and Close fsync, so a finished run is durable.
func Open(path string, opts Options) (*DB, error) {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the provenance database %s does not exist yet (no run has been recorded): %w", path, err)
		}
	} else if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the directory for the provenance database %s: %w", path, err)
	}
	endTurn, err := takeTurn(path, opts.Timeout, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	timeout := max(opts.Timeout, 0) // bbolt: 0 waits for ever
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  timeout,
		ReadOnly: opts.ReadOnly,
		NoSync:   !opts.Sync,
	})
	if err != nil {
		endTurn()
	}
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("the database %s is in use by another flow process (waited %s for its lock): %w", path, timeout, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the provenance database %s: %w", path, err)
	}
	d := &DB{db: bdb, group: &boltgroup.Committer{DB: bdb}, path: path, readOnly: opts.ReadOnly, endTurn: endTurn}
	if err := d.init(); err != nil {
		_ = bdb.Close()
		endTurn()
		return nil, err
	}
	return d, nil
}

// init checks the schema version and, for a writer, creates the buckets,
// so that no other method has to handle a missing bucket.
func (d *DB) init() error {
	ready := false
	err := d.db.View(func(tx *bolt.Tx) error {
		ready = true
		for _, name := range allBuckets {
			ready = ready && tx.Bucket(name) != nil
		}
		return d.checkVersion(tx.Bucket(bucketMeta))
	})
	if d.readOnly || err != nil || ready {
		return err // a database that is set up needs no write to open
	}
	return d.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("cannot create bucket %s in the provenance database %s: %w", name, d.path, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := d.checkVersion(meta); meta.Get(keySchemaVersion) != nil && err != nil {
			return err
		}
		// Nothing in version 1 needs rewriting: new buckets are all that
		// version 2 adds (runs delivered before it are found by content).
		return meta.Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, schemaVersion))
	})
}

func (d *DB) checkVersion(meta *bolt.Bucket) error {
	if meta == nil {
		return nil // an empty file that no writer has set up: reads find nothing
	}
	v := meta.Get(keySchemaVersion)
	if len(v) != 8 {
		return fmt.Errorf("the provenance database %s has no valid schema version; is it a flow database?", d.path)
	}
	if got := binary.BigEndian.Uint64(v); got > schemaVersion {
		return fmt.Errorf("the provenance database %s has schema version %d, newer than the %d this flow understands; upgrade flow", d.path, got, schemaVersion)
	}
	return nil
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Sync makes every commit so far durable (fsync), for when opts.Sync is off.
func (d *DB) Sync() error {
	if d.readOnly {
		return nil
	}
	if err := d.db.Sync(); err != nil {
		return fmt.Errorf("cannot sync the provenance database %s: %w", d.path, err)
	}
	return nil
}

// Close syncs and closes the database and releases its lock.
func (d *DB) Close() error {
	serr := d.Sync()
	if err := d.release(); err != nil {
		return err
	}
	return serr
}

// release closes the database without syncing it: what was committed is
// safe from a crash of flow already (see Open), and Shared syncs once at
// the end rather than after every group of calls.
func (d *DB) release() error {
	defer d.endTurn()
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("cannot close the provenance database %s: %w", d.path, err)
	}
	return nil
}

// Check runs bbolt's consistency check over the whole file (every page
// reachable once, freelist sound) and returns the problems found.
func (d *DB) Check() error {
	return d.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("the provenance database %s is damaged: %w", d.path, errors.Join(errs...))
		}
		return nil
	})
}

// view runs fn in a read transaction. fn copies what it needs out of the
// transaction: values are only valid inside it, and decoding JSON there
// would hold the read lock that a writer growing the file waits for.
func (d *DB) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.View(fn)
}

// update runs fn in its own write transaction.
func (d *DB) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.readOnly {
		return fmt.Errorf("the provenance database %s is open read-only", d.path)
	}
	return d.db.Update(fn)
}

// DefaultPath is where flow keeps its database unless told otherwise:
// $XDG_DATA_HOME/flow/flow.db, or ~/.local/share/flow/flow.db. It creates
// the directory, readable by the user alone (the database holds command
// lines and environments).
func DefaultPath() (string, error) {
	base := os.Getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(base) { // the XDG spec says to ignore relative paths
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find where to keep the provenance database: %w", err)
		}
		base = filepath.Join(home, ".local", "share")
	}
	dir := filepath.Join(base, "flow")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cannot create the directory %s for the provenance database: %w", dir, err)
	}
	return filepath.Join(dir, "flow.db"), nil
}
