package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ErrQueueFull: the team already has its limit of unfinished runs.
var ErrQueueFull = errors.New("the team's queue is full")

// CreateRunLimited records a new run as CreateRun does, unless the team
// already has limit unfinished runs (ErrQueueFull). Counting and creating
// are one transaction: bbolt runs one writer at a time, so submissions
// that arrive together cannot all see room for one more run and all take
// it. limit <= 0 means no limit.
func (s *Store) CreateRunLimited(r *Run, limit int) error {
	js, err := s.prepareRun(r)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		if limit > 0 {
			n, err := countUnfinished(b, r.Team)
			if err != nil {
				return err
			}
			if n >= limit {
				return fmt.Errorf("%w: %d runs have not finished yet; try again later", ErrQueueFull, n)
			}
		}
		if b.Get(key(r.Team, r.ID)) != nil {
			return fmt.Errorf("run %s of team %s: %w", r.ID, r.Team, ErrExists)
		}
		return b.Put(key(r.Team, r.ID), js)
	})
}

// UnfinishedCount is how many runs of the team have not finished.
func (s *Store) UnfinishedCount(team string) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		n, err = countUnfinished(tx.Bucket(bucketRuns), team)
		return err
	})
	return n, err
}

// countUnfinished reads only each record's state: a team's finished runs
// may be many, and their inputs and outputs need not be decoded here.
func countUnfinished(b *bolt.Bucket, team string) (int, error) {
	n := 0
	p := prefix(team)
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		var st struct {
			State RunState `json:"state"`
		}
		if err := json.Unmarshal(v, &st); err != nil {
			return 0, fmt.Errorf("run %q cannot be read: %w", k[len(p):], err)
		}
		if !st.State.Finished() {
			n++
		}
	}
	return n, nil
}
