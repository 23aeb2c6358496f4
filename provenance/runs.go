package provenance

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// CreateRun records a new run; a run with the same ID is an error.
func (d *DB) CreateRun(ctx context.Context, r *Run) error {
	return d.putRun(ctx, r, true)
}

// UpdateRun replaces the run with r.ID; ErrNotFound if there is none.
func (d *DB) UpdateRun(ctx context.Context, r *Run) error {
	return d.putRun(ctx, r, false)
}

func (d *DB) putRun(ctx context.Context, r *Run, create bool) error {
	if err := validateKeyPart("run ID", r.ID); err != nil {
		return fmt.Errorf("cannot record a run in %s: %w", d.path, err)
	}
	js, blobs, err := encodeRun(r)
	if err != nil {
		return fmt.Errorf("cannot encode run %s: %w", r.ID, err)
	}
	return d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		exists := b.Get([]byte(r.ID)) != nil
		switch {
		case create && exists:
			return fmt.Errorf("run %s is already recorded in %s", r.ID, d.path)
		case !create && !exists:
			return fmt.Errorf("no run %s in %s: %w", r.ID, d.path, ErrNotFound)
		}
		if err := putBlobs(tx, blobs); err != nil {
			return err
		}
		return b.Put([]byte(r.ID), js)
	})
}

// GetRun finds a run by its ID or by a prefix that only one run has.
func (d *DB) GetRun(ctx context.Context, id string) (*Run, error) {
	if id == "" {
		return nil, fmt.Errorf("no run ID given: %w", ErrNotFound)
	}
	var matches []string
	var val []byte
	err := d.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(id)); v != nil { // an exact ID wins over longer IDs it prefixes
			matches, val = []string{id}, bytes.Clone(v)
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek([]byte(id)); k != nil && bytes.HasPrefix(k, []byte(id)); k, v = c.Next() {
			matches = append(matches, string(k))
			val = bytes.Clone(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("no run %s in %s: %w", id, d.path, ErrNotFound)
	case 1:
		r, err := decodeRunWith(val, d.loadBlob)
		if err != nil {
			return nil, fmt.Errorf("run %s in %s is damaged: %w", matches[0], d.path, err)
		}
		return r, nil
	}
	return nil, fmt.Errorf("%q is the start of %d run IDs in %s (%s); give more of it: %w",
		id, len(matches), d.path, listSome(matches, 5), ErrAmbiguous)
}

// listSome names the first n of ids and counts the rest.
func listSome(ids []string, n int) string {
	if len(ids) <= n {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:n], ", "), len(ids)-n)
}

// ListRuns returns runs newest first: at most limit of them (0: all),
// starting after the run before ("" starts at the newest), so a listing
// pages with before set to the last ID of the previous page.
//
// A listing leaves out inputs and outputs stored apart from the record
// (large ones: see values.go), so that it stays quick whatever the runs
// were given; GetRun has them. A record that cannot be decoded is listed
// as a Run with its ID, State RunDamaged and the reason in Error, rather
// than hiding every other run.
func (d *DB) ListRuns(ctx context.Context, limit int, before string) ([]*Run, error) {
	var keys []string
	var vals [][]byte
	err := d.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.Last()
		if before != "" {
			// Seek lands on the first key >= before; the one before it is
			// the newest run older than before.
			if k, _ = c.Seek([]byte(before)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for ; k != nil && (limit <= 0 || len(vals) < limit); k, v = c.Prev() {
			keys = append(keys, string(k))
			vals = append(vals, bytes.Clone(v))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	runs := make([]*Run, 0, len(vals))
	for i, v := range vals {
		r, err := decodeRunWith(v, nil)
		if err != nil {
			r = &Run{ID: keys[i], State: RunDamaged, Error: "damaged: " + err.Error()}
		}
		runs = append(runs, r)
	}
	return runs, nil
}
