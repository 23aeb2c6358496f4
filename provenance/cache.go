package provenance

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PutCache records or replaces a step cache entry (also to bump LastUsed).
//
// Every job of a run that finishes (or is found in the cache) calls it,
// from its own goroutine, so it commits like PutAttempt: through the
// shared transactions of boltgroup.Committer, many entries to a commit.
// It still returns only once its entry is committed, so an entry is in
// the index before the job's record says the job finished: a flow
// killed after that finds the job's outputs again on resume.
func (d *DB) PutCache(ctx context.Context, e *CacheEntry) error {
	if err := validateKeyPart("cache key", e.Key); err != nil {
		return fmt.Errorf("cannot record a cache entry in %s: %w", d.path, err)
	}
	js, blobs, err := encodeCache(e)
	if err != nil {
		return fmt.Errorf("cannot encode cache entry %s: %w", e.Key, err)
	}
	return d.updateGrouped(ctx, func(tx *bolt.Tx) error {
		if err := putBlobs(tx, blobs); err != nil {
			return err
		}
		return tx.Bucket(bucketCache).Put([]byte(e.Key), js)
	})
}

// GetCache returns the entry for key, or ErrNotFound.
func (d *DB) GetCache(ctx context.Context, key string) (*CacheEntry, error) {
	var val []byte
	err := d.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCache); b != nil {
			val = bytes.Clone(b.Get([]byte(key)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if val == nil {
		return nil, fmt.Errorf("no cache entry %s in %s: %w", key, d.path, ErrNotFound)
	}
	return d.decodeCache(val)
}

// ListCache returns every cache entry, ordered by key.
func (d *DB) ListCache(ctx context.Context) ([]*CacheEntry, error) {
	var vals [][]byte
	err := d.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCache)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			vals = append(vals, bytes.Clone(v))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	entries := make([]*CacheEntry, 0, len(vals))
	for _, v := range vals {
		e, err := d.decodeCache(v)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// DeleteCache forgets an entry (the caller removes its directory);
// ErrNotFound if there was none.
func (d *DB) DeleteCache(ctx context.Context, key string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCache)
		if b.Get([]byte(key)) == nil {
			return fmt.Errorf("no cache entry %s in %s: %w", key, d.path, ErrNotFound)
		}
		return b.Delete([]byte(key))
	})
}

func (d *DB) decodeCache(v []byte) (*CacheEntry, error) {
	e, err := decodeCacheWith(v, d.loadBlob)
	if err != nil {
		return nil, fmt.Errorf("a cache entry in %s cannot be read: %w", d.path, err)
	}
	return e, nil
}

// updateGrouped runs fn in a write transaction shared with the other
// writes that arrive meanwhile (boltgroup.Committer), and returns once it
// is committed. fn may run twice, so it must only put what it was given.
func (d *DB) updateGrouped(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.readOnly {
		return fmt.Errorf("the provenance database %s is open read-only", d.path)
	}
	return d.group.Do(fn)
}
