package provenance

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// pathRecord is a paths-bucket record: the content last seen at a path.
type pathRecord struct {
	FileRef
	RunID string `json:"run_id"`
}

// pathUpdate is one paths-bucket write prepared outside the transaction.
type pathUpdate struct {
	key, val []byte
	seen     int64
}

// PutAttempt records or replaces an attempt and indexes its files: who
// generated each content, and what content each path now holds.
//
// The engine calls it from every job's goroutine at once, so it commits
// through boltgroup.Committer, which puts the writes that arrive during one commit
// into the next: a 1,000-way scatter commits a few dozen times, not 1,000
// times. The JSON is encoded before, outside the transaction, so that the
// shared transaction only copies bytes.
func (d *DB) PutAttempt(ctx context.Context, a *Attempt) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.readOnly {
		return fmt.Errorf("the provenance database %s is open read-only", d.path)
	}
	if err := validateAttempt(a); err != nil {
		return fmt.Errorf("cannot record an attempt in %s: %w", d.path, err)
	}
	js, blobs, err := encodeAttempt(a)
	if err != nil {
		return fmt.Errorf("cannot encode attempt %d of job %s in run %s: %w", a.Attempt, a.Job, a.RunID, err)
	}
	key := attemptKey(a.RunID, a.Job, a.Attempt)
	var genKeys [][]byte
	for _, f := range a.Generated {
		if f.SHA1 != "" {
			genKeys = append(genKeys, generatedKey(f.SHA1, key))
		}
	}
	paths, err := attemptPathUpdates(a)
	if err != nil {
		return err
	}
	return d.group.Do(func(tx *bolt.Tx) error {
		if err := putBlobs(tx, blobs); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAttempts).Put(key, js); err != nil {
			return err
		}
		gen := tx.Bucket(bucketGenerated)
		for _, k := range genKeys {
			if err := gen.Put(k, nil); err != nil {
				return err
			}
		}
		return putPaths(tx, paths)
	})
}

func validateAttempt(a *Attempt) error {
	if err := validateKeyPart("run ID", a.RunID); err != nil {
		return err
	}
	if err := validateKeyPart("job", a.Job); err != nil {
		return err
	}
	if a.Attempt < 0 {
		return fmt.Errorf("job %s has a negative attempt number %d", a.Job, a.Attempt)
	}
	return nil
}

// attemptPathUpdates notes where the attempt saw each of its files: inputs
// as of its start, outputs as of its end. An input path that a later step
// overwrites therefore ends up holding the later content.
func attemptPathUpdates(a *Attempt) ([]pathUpdate, error) {
	end := a.Finished
	if end.IsZero() {
		end = a.Started
	}
	var ups []pathUpdate
	for _, group := range []struct {
		files []FileRef
		seen  time.Time
	}{{a.Used, a.Started}, {a.Generated, end}} {
		for _, f := range group.files {
			up, ok, err := newPathUpdate(a.RunID, f, group.seen)
			if err != nil {
				return nil, err
			}
			if ok {
				ups = append(ups, up)
			}
		}
	}
	return ups, nil
}

func newPathUpdate(runID string, f FileRef, seen time.Time) (pathUpdate, bool, error) {
	if f.Path == "" || f.SHA1 == "" || !filepath.IsAbs(f.Path) {
		return pathUpdate{}, false, nil // nothing lineage could look up
	}
	js, err := json.Marshal(pathRecord{FileRef: f, RunID: runID})
	if err != nil {
		return pathUpdate{}, false, fmt.Errorf("cannot encode the record of %s: %w", f.Path, err)
	}
	return pathUpdate{key: []byte(filepath.Clean(f.Path)), val: pathValue(seen, js), seen: seen.UnixNano()}, true, nil
}

// putPaths writes each record unless the path already holds a newer one,
// so that batches committing out of order cannot roll a path back.
func putPaths(tx *bolt.Tx, ups []pathUpdate) error {
	return putPathsIn(tx.Bucket(bucketPaths), ups)
}

func putPathsIn(b *bolt.Bucket, ups []pathUpdate) error {
	for _, up := range ups {
		if old := b.Get(up.key); old != nil && pathValueSeen(old) > up.seen {
			continue
		}
		if err := b.Put(up.key, up.val); err != nil {
			return err
		}
	}
	return nil
}

// Attempts returns a run's attempts in the order they started (then by
// job and attempt number); none is not an error.
func (d *DB) Attempts(ctx context.Context, runID string) ([]*Attempt, error) {
	var keys, vals [][]byte
	err := d.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAttempts)
		if b == nil {
			return nil
		}
		prefix := runPrefix(runID)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			keys = append(keys, bytes.Clone(k))
			vals = append(vals, bytes.Clone(v))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	atts := d.decodeAttempts(keys, vals)
	slices.SortStableFunc(atts, func(a, b *Attempt) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		if c := strings.Compare(a.Job, b.Job); c != 0 {
			return c
		}
		return a.Attempt - b.Attempt
	})
	return atts, nil
}

// decodeAttempts decodes attempt records; one that cannot be decoded
// becomes an Attempt in state StepDamaged named by its key, so that the
// rest of the run can still be shown (and a resume runs that job again).
func (d *DB) decodeAttempts(keys, vals [][]byte) []*Attempt {
	atts := make([]*Attempt, 0, len(vals))
	for i, v := range vals {
		a, err := decodeAttemptWith(v, d.loadBlob)
		if err != nil {
			a = damagedAttempt(keys[i], err)
		}
		atts = append(atts, a)
	}
	return atts
}

// damagedAttempt stands for an undecodable record, named by its key
// <runID>\x00<job>\x00<attempt>.
func damagedAttempt(key []byte, err error) *Attempt {
	a := &Attempt{State: StepDamaged, Error: "damaged: " + err.Error(), ScatterIndex: -1}
	parts := bytes.SplitN(key, []byte{sep}, 2)
	a.RunID = string(parts[0])
	if len(parts) == 2 && len(parts[1]) >= 5 {
		a.Job = string(parts[1][:len(parts[1])-5])
		a.Attempt = int(binary.BigEndian.Uint32(parts[1][len(parts[1])-4:]))
	}
	return a
}

// GeneratedBy returns the attempts that generated content sha1, newest
// first; none is not an error (the content was a workflow input).
//
// The index is never pruned when an attempt is replaced, so an entry can
// outlive the file it names; each attempt found is checked against its own
// Generated list before it is returned.
func (d *DB) GeneratedBy(ctx context.Context, sha1 string) ([]*Attempt, error) {
	if err := validateKeyPart("sha1", sha1); err != nil {
		return nil, err
	}
	var keys, vals [][]byte
	err := d.view(ctx, func(tx *bolt.Tx) error {
		gen, atts := tx.Bucket(bucketGenerated), tx.Bucket(bucketAttempts)
		if gen == nil || atts == nil {
			return nil
		}
		prefix := append([]byte(sha1), sep)
		c := gen.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ak := attemptKeyFromGenerated(k, sha1)
			if v := atts.Get(ak); v != nil {
				keys = append(keys, ak)
				vals = append(vals, bytes.Clone(v))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	atts := d.decodeAttempts(keys, vals) // a damaged one generated nothing it can show, and goes below
	atts = slices.DeleteFunc(atts, func(a *Attempt) bool {
		return !slices.ContainsFunc(a.Generated, func(f FileRef) bool { return f.SHA1 == sha1 })
	})
	slices.SortStableFunc(atts, func(a, b *Attempt) int {
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		return strings.Compare(b.RunID, a.RunID)
	})
	return atts, nil
}

// RecordFiles notes where files with given contents now are (typically a
// run's final outputs after they were moved to the output directory).
//
// The records are written recordFilesBatch at a time, each batch in its
// own transaction: a transaction holds everything it changes in memory
// until it commits, and one for the 100,000 outputs of a wide scatter
// held some 150 MB at the end of the run. A batch is sorted by path, so
// that its records fill the pages they touch. Killed between batches,
// flow leaves the earlier outputs recorded, which is true of them.
func (d *DB) RecordFiles(ctx context.Context, runID string, files []FileRef) error {
	for _, f := range files {
		if !filepath.IsAbs(f.Path) {
			return fmt.Errorf("cannot record %q in %s: the path is not absolute", f.Path, d.path)
		}
	}
	now := time.Now()
	for batch := range slices.Chunk(files, recordFilesBatch) {
		ups := make([]pathUpdate, 0, len(batch))
		for _, f := range batch {
			up, ok, err := newPathUpdate(runID, f, now)
			if err != nil {
				return err
			}
			if ok {
				ups = append(ups, up)
			}
		}
		slices.SortFunc(ups, func(a, b pathUpdate) int { return bytes.Compare(a.key, b.key) })
		if err := d.update(ctx, func(tx *bolt.Tx) error {
			if err := putPaths(tx, ups); err != nil {
				return err
			}
			// The paths bucket also takes the paths a later step reads: only
			// here is it known that this run put the file there.
			return putPathsIn(tx.Bucket(bucketDelivered), ups)
		}); err != nil {
			return err
		}
	}
	return nil
}

// recordFilesBatch is how many file records RecordFiles commits at once.
const recordFilesBatch = 4096

// WrittenBy returns the newest record of the file at an absolute path and
// the run that put it there: the run that last delivered it as a final
// output, or else the run whose step last used or generated it there.
func (d *DB) WrittenBy(ctx context.Context, path string) (FileRef, string, bool, error) {
	if !filepath.IsAbs(path) {
		return FileRef{}, "", false, fmt.Errorf("cannot look up %q in %s: the path is not absolute", path, d.path)
	}
	key := []byte(filepath.Clean(path))
	var val []byte
	delivered := false
	err := d.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketDelivered); b != nil {
			val, delivered = bytes.Clone(b.Get(key)), true
		}
		if val == nil {
			delivered = false
			if b := tx.Bucket(bucketPaths); b != nil {
				val = bytes.Clone(b.Get(key))
			}
		}
		return nil
	})
	if err != nil {
		return FileRef{}, "", false, err
	}
	if len(val) < 8 {
		return FileRef{}, "", false, fmt.Errorf("no record of a file at %s in %s: %w", path, d.path, ErrNotFound)
	}
	var rec pathRecord
	if err := json.Unmarshal(val[8:], &rec); err != nil {
		return FileRef{}, "", false, fmt.Errorf("the record of %s in %s cannot be read: %w", path, d.path, err)
	}
	return rec.FileRef, rec.RunID, delivered, nil
}

// FileByPath returns the newest record of the file at an absolute path.
func (d *DB) FileByPath(ctx context.Context, path string) (FileRef, error) {
	if !filepath.IsAbs(path) {
		return FileRef{}, fmt.Errorf("cannot look up %q in %s: the path is not absolute", path, d.path)
	}
	var val []byte
	err := d.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketPaths); b != nil {
			val = bytes.Clone(b.Get([]byte(filepath.Clean(path))))
		}
		return nil
	})
	if err != nil {
		return FileRef{}, err
	}
	if len(val) < 8 {
		return FileRef{}, fmt.Errorf("no record of a file at %s in %s: %w", path, d.path, ErrNotFound)
	}
	var rec pathRecord
	if err := json.Unmarshal(val[8:], &rec); err != nil {
		return FileRef{}, fmt.Errorf("the record of %s in %s cannot be read: %w", path, d.path, err)
	}
	return rec.FileRef, nil
}
