package provenance

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/flow-cwl/flow/internal/digest"
)

// The checksum memo's store (digest.Store): the SHA-1 of big files by
// their identity (device, inode, size, modification and change times),
// so that a later run over unchanged files reads none of their bytes.
// The database that indexes the step cache keeps them, since cache keys
// and cache checks are what ask for them.

var (
	_ digest.Store = (*DB)(nil)
	_ digest.Store = (*Shared)(nil)
)

// LoadSum returns the checksum stored under an identity key, or "".
func (d *DB) LoadSum(ctx context.Context, key []byte) (string, error) {
	var raw []byte
	err := d.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketSums); b != nil {
			raw = bytes.Clone(b.Get(key))
		}
		return nil
	})
	if err != nil || len(raw) != 20 {
		return "", err
	}
	return digest.Prefix + hex.EncodeToString(raw), nil
}

// StoreSum stores a "sha1$<hex>" checksum under an identity key, in a
// commit shared with the other writes of the moment (the checksums of a
// scatter's big outputs arrive together).
func (d *DB) StoreSum(ctx context.Context, key []byte, sum string) error {
	raw, err := hex.DecodeString(digest.Hex(sum))
	if err != nil || len(raw) != 20 {
		return fmt.Errorf("cannot store checksum %q: not a SHA-1", sum)
	}
	return d.updateGrouped(ctx, func(tx *bolt.Tx) error { return tx.Bucket(bucketSums).Put(key, raw) })
}

func (s *Shared) LoadSum(ctx context.Context, key []byte) (sum string, err error) {
	err = s.with(func(db *DB) error { sum, err = db.LoadSum(ctx, key); return err })
	return sum, err
}

func (s *Shared) StoreSum(ctx context.Context, key []byte, sum string) error {
	return s.with(func(db *DB) error { return db.StoreSum(ctx, key, sum) })
}
