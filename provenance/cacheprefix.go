package provenance

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"
)

// HasCachePrefix reports whether any step cache entry has a key that
// begins with prefix. The engine's keys begin with a job's shape (what it
// runs, on inputs of which names and sizes); no entry of that shape means
// no entry can match the job, whatever its input files hold, so it need
// not read them before it starts.
func (d *DB) HasCachePrefix(ctx context.Context, prefix string) (bool, error) {
	found := false
	err := d.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCache); b != nil {
			k, _ := b.Cursor().Seek([]byte(prefix))
			found = k != nil && bytes.HasPrefix(k, []byte(prefix))
		}
		return nil
	})
	return found, err
}

func (s *Shared) HasCachePrefix(ctx context.Context, prefix string) (found bool, err error) {
	err = s.with(func(db *DB) error { found, err = db.HasCachePrefix(ctx, prefix); return err })
	return found, err
}
