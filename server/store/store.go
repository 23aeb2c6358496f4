package store

// The bbolt file holds these buckets (keys in <>, values after →; \0 is
// the NUL byte that no team, name or ID may contain):
//
//	meta/
//	  schema_version → uint64 big-endian (currently 2)
//	tokens/
//	  <team>\0<tokenID> → JSON tokenRecord (the Token and its SHA-256)
//	tokenhash/
//	  <sha256 of secret> → <team>\0<tokenID>        live tokens only
//	sshkeys/
//	  <team>\0<keyID> → JSON sshKeyRecord (public half, sealed private half)
//	runs/
//	  <team>\0<runID> → JSON Run                     run IDs sort by time
//	events/
//	  <team>\0<eventID uint64 BE> → JSON Event       IDs counted per team
//	eventseq/
//	  <team> → last event ID, uint64 big-endian      (version 1: bucket sequence of events/)
//	runevents/
//	  <team>\0<runID>\0<eventID uint64 BE> → empty   one run's events
//	workflows/
//	  <team>\0<name>\0<version> → JSON Workflow

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flow-cwl/flow/internal/boltgroup"
)

// schemaVersion is the layout drawn above; a change an older flowd would
// misread bumps it.
// Version 2 counts event IDs per team; an older flowd would go on from
// the daemon-wide count and could give a team IDs it has had.
const schemaVersion = 2

// lockTimeout is how long Open waits for another process's lock on the
// database: long enough for a restarting flowd to let go, short enough to
// say at once that two daemons share a data directory.
const lockTimeout = 2 * time.Second

var (
	// ErrNotFound: no such record in this team (perhaps in another).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the bearer token is unknown, revoked or malformed.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrExists: a record with that key is already there.
	ErrExists = errors.New("already exists")
	// ErrRunActive: the run has not finished, so it cannot be deleted.
	ErrRunActive = errors.New("run has not finished")
	// ErrBadPageToken: the page token was not issued for this listing.
	ErrBadPageToken = errors.New("invalid page token")
	// ErrKeyMismatch: a sealed SSH key does not open with this flowd.key.
	ErrKeyMismatch = errors.New("SSH key cannot be decrypted with this key file")
	// ErrLocked: another process holds the database.
	ErrLocked = errors.New("database locked by another process")
)

// Store is flowd's database. Open one per daemon; all methods are safe for
// concurrent use.
type Store struct {
	db      *bolt.DB
	path    string // flowd.db
	keyPath string // flowd.key
	keys    derivedKeys
	ids     idGen
	events  *boltgroup.Committer
	subs    subscribers
	revoked revocations
}

// derivedKeys holds what is derived from flowd.key (keyfile.go).
type derivedKeys struct {
	seal  cipher.AEAD // SSH private keys
	page  []byte      // HMAC key for page tokens
	keyID string      // names the key file without revealing it
}

// Open opens the daemon's database dir/flowd.db and its key file
// dir/flowd.key, creating both (and dir) on first start. It refuses a key
// file that others may read, and a missing key file when the database
// already holds SSH keys sealed with one.
func Open(dir string) (*Store, error) {
	return OpenWith(dir, Options{})
}

// Options change how Open treats the database file.
type Options struct {
	// Init allows an empty (0-byte) flowd.db, which is otherwise refused:
	// a database that lost its contents must not quietly become a new one,
	// with no tokens, runs or SSH keys.
	Init bool
}

// OpenWith is Open with options. A damaged database file (truncated,
// corrupt) is refused with ErrDamaged, an empty one with ErrEmptyFile.
func OpenWith(dir string, o Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the flowd data directory %s: %w", dir, err)
	}
	s := &Store{path: filepath.Join(dir, "flowd.db"), keyPath: filepath.Join(dir, "flowd.key")}
	if err := checkExistingKeyFile(s.keyPath); err != nil {
		return nil, err // before touching the database: nothing to undo
	}
	if err := checkFile(s.path, o.Init); err != nil {
		return nil, err
	}
	bdb, err := openChecked(s.path, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("the database %s is in use by another process (another flowd with the same data directory?): %w", s.path, ErrLocked)
	}
	if errors.Is(err, ErrDamaged) {
		return nil, err // it names the file already
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the flowd database %s: %w", s.path, err)
	}
	s.db = bdb
	s.events = &boltgroup.Committer{DB: bdb}
	if err := s.init(); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	return s, nil
}

// init creates the buckets, checks the schema version and loads the key
// file, which is created here, under the database lock, so that two
// daemons started at once cannot each write a different one.
func (s *Store) init() error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("cannot create bucket %s in %s: %w", name, s.path, err)
			}
		}
		return s.checkVersion(tx.Bucket(bucketMeta))
	})
	if err != nil {
		return err
	}
	key, err := s.loadOrCreateKey()
	if err != nil {
		return err
	}
	s.keys, err = deriveKeys(key)
	clear(key)
	return err
}

func (s *Store) checkVersion(meta *bolt.Bucket) error {
	v := meta.Get(keySchemaVersion)
	if v == nil {
		return meta.Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, schemaVersion))
	}
	if len(v) != 8 {
		return fmt.Errorf("the database %s has no valid schema version; is it a flowd database?", s.path)
	}
	got := binary.BigEndian.Uint64(v)
	if got > schemaVersion {
		return fmt.Errorf("the database %s has schema version %d, newer than the %d this flowd understands; upgrade flowd", s.path, got, schemaVersion)
	}
	if got < 2 {
		if err := migrateEventIDs(meta.Tx()); err != nil {
			return fmt.Errorf("cannot move the database %s to per-team event IDs: %w", s.path, err)
		}
		return meta.Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, schemaVersion))
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close wakes every subscriber for the last time (their channels close)
// and closes the database.
func (s *Store) Close() error {
	s.subs.closeAll()
	s.revoked.broadcast(true)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("cannot close the flowd database %s: %w", s.path, err)
	}
	return nil
}

// hasSSHKeys reports whether any team has an SSH key sealed in the
// database, which a new key file could not open.
func (s *Store) hasSSHKeys() (bool, error) {
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketSSHKeys).Cursor().First()
		found = k != nil
		return nil
	})
	return found, err
}
