package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Event kinds the daemon appends.
const (
	EventState = "state" // the run changed state
	EventStep  = "step"  // a step started, finished or failed
	EventLog   = "log"   // a line of a step's output
)

// Event is one entry of a run's story. IDs increase within a team (each
// team counts its own: eventids.go), so "everything after ID n" is one
// question whether asked about a run or its team. They are taken inside
// the committing transaction, and bbolt commits one at a time, so IDs
// become visible in order: a reader that has seen ID n will never find a
// smaller one appear later.
type Event struct {
	ID    uint64          `json:"id"`
	Team  string          `json:"team"`
	RunID string          `json:"run_id,omitempty"` // "" for an event of the team, not of a run
	Kind  string          `json:"kind"`
	Data  json.RawMessage `json:"data,omitempty"`
	Time  time.Time       `json:"time"`
}

// AppendEvent records e, assigning its ID (and Time when zero), then wakes
// the team's subscribers. A run event needs its run to exist in the team.
func (s *Store) AppendEvent(e *Event) error {
	if err := checkName("team", e.Team); err != nil {
		return fmt.Errorf("cannot record an event: %w", err)
	}
	if err := checkName("event kind", e.Kind); err != nil {
		return fmt.Errorf("cannot record an event: %w", err)
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	err := s.events.Do(func(tx *bolt.Tx) error { return putEvent(tx, e) })
	if err != nil {
		return fmt.Errorf("cannot record a %s event of run %s in team %s: %w", e.Kind, e.RunID, e.Team, err)
	}
	s.subs.signal(e.Team)
	return nil
}

// putEvent stores e under its team's next event ID. It may run twice
// (boltgroup), and takes a new number each time, since a rolled back
// transaction gives back the number it took.
func putEvent(tx *bolt.Tx, e *Event) error {
	if e.RunID != "" && tx.Bucket(bucketRuns).Get(key(e.Team, e.RunID)) == nil {
		return fmt.Errorf("no run %s in team %s: %w", e.RunID, e.Team, ErrNotFound)
	}
	b := tx.Bucket(bucketEvents)
	id, err := nextEventID(tx, e.Team)
	if err != nil {
		return err
	}
	e.ID = id
	js, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := b.Put(seqKey(id, e.Team), js); err != nil {
		return err
	}
	if e.RunID == "" {
		return nil
	}
	return tx.Bucket(bucketRunEvents).Put(seqKey(id, e.Team, e.RunID), nil)
}

// Events returns a team's events with IDs above after, oldest first, at
// most limit of them (0: all): one run's when runID is set (ErrNotFound if
// the team has no such run), else the whole team's.
func (s *Store) Events(team, runID string, after uint64, limit int) ([]Event, error) {
	if err := checkName("team", team); err != nil {
		return nil, fmt.Errorf("cannot read events: %w", err)
	}
	if after == math.MaxUint64 {
		return nil, nil // nothing comes after the last ID there can be
	}
	var evs []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		if runID == "" {
			return scanEvents(tx, tx.Bucket(bucketEvents), prefix(team), team, after, limit, &evs)
		}
		if tx.Bucket(bucketRuns).Get(key(team, runID)) == nil {
			return fmt.Errorf("no run %s in team %s: %w", runID, team, ErrNotFound)
		}
		return scanEvents(tx, tx.Bucket(bucketRunEvents), prefix(team, runID), team, after, limit, &evs)
	})
	return evs, err
}

// scanEvents appends to evs the events whose IDs follow prefix p in
// bucket b (the events themselves, or a run's index into them), from
// after+1 on.
func scanEvents(tx *bolt.Tx, b *bolt.Bucket, p []byte, team string, after uint64, limit int, evs *[]Event) error {
	events := tx.Bucket(bucketEvents)
	c := b.Cursor()
	start := binary.BigEndian.AppendUint64(bytes.Clone(p), after+1)
	for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if limit > 0 && len(*evs) == limit {
			return nil
		}
		id := binary.BigEndian.Uint64(k[len(p):])
		var e Event
		if err := json.Unmarshal(events.Get(seqKey(id, team)), &e); err != nil {
			return fmt.Errorf("event %d of team %s cannot be read: %w", id, team, err)
		}
		*evs = append(*evs, e)
	}
	return nil
}

// deleteRunEvents removes a run's events and their index entries.
func deleteRunEvents(tx *bolt.Tx, team, runID string) error {
	events, index := tx.Bucket(bucketEvents), tx.Bucket(bucketRunEvents)
	p := prefix(team, runID)
	var keys [][]byte
	c := index.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k)) // deleting while iterating skips keys
	}
	for _, k := range keys {
		id := binary.BigEndian.Uint64(k[len(p):])
		if err := events.Delete(seqKey(id, team)); err != nil {
			return err
		}
		if err := index.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
