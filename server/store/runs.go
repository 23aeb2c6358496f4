package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flow-cwl/flow/internal/cwljson"
)

// RunState is where a run is in its life, named as in GA4GH WES.
type RunState string

const (
	StateQueued        RunState = "QUEUED"
	StateInitializing  RunState = "INITIALIZING"
	StateRunning       RunState = "RUNNING"
	StateCanceling     RunState = "CANCELING"
	StateComplete      RunState = "COMPLETE"
	StateExecutorError RunState = "EXECUTOR_ERROR" // a step failed
	StateSystemError   RunState = "SYSTEM_ERROR"   // flowd or the cluster failed
	StateCanceled      RunState = "CANCELED"
)

// Finished reports whether a run in this state will not change again.
func (st RunState) Finished() bool {
	switch st {
	case StateComplete, StateExecutorError, StateSystemError, StateCanceled:
		return true
	}
	return false
}

// Valid reports whether st is one of the states above.
func (st RunState) Valid() bool {
	switch st {
	case StateQueued, StateInitializing, StateRunning, StateCanceling:
		return true
	}
	return st.Finished()
}

// Run is the daemon's record of one submitted run.
type Run struct {
	ID        string            `json:"id"` // time-ordered, unique; assigned by CreateRun
	Team      string            `json:"team"`
	Owner     string            `json:"owner"` // the ID of the token that submitted it
	Name      string            `json:"name,omitempty"`
	State     RunState          `json:"state"`
	Workflow  string            `json:"workflow"` // the workflow document's path in Dir
	Inputs    map[string]any    `json:"inputs,omitempty"`
	Outputs   map[string]any    `json:"outputs,omitempty"`
	Error     string            `json:"error,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	Submitted time.Time         `json:"submitted"`
	Started   time.Time         `json:"started,omitzero"`
	Finished  time.Time         `json:"finished,omitzero"`
	Dir       string            `json:"dir"`     // the run's directory under the data directory
	Attempt   int               `json:"attempt"` // how many times the daemon has started it
}

// CreateRun records a new run. It assigns ID when empty, Submitted when
// zero, and State QUEUED when empty; an ID already taken is ErrExists.
func (s *Store) CreateRun(r *Run) error {
	return s.CreateRunLimited(r, 0)
}

// prepareRun fills in what CreateRun assigns, checks the run and encodes
// it.
func (s *Store) prepareRun(r *Run) ([]byte, error) {
	if r.ID == "" {
		r.ID = s.ids.next()
	}
	if r.Submitted.IsZero() {
		r.Submitted = time.Now().UTC()
	}
	if r.State == "" {
		r.State = StateQueued
	}
	if err := checkRun(r); err != nil {
		return nil, fmt.Errorf("cannot record run %s: %w", r.ID, err)
	}
	js, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("cannot encode run %s: %w", r.ID, err)
	}
	return js, nil
}

func checkRun(r *Run) error {
	if err := checkName("team", r.Team); err != nil {
		return err
	}
	if err := checkName("run ID", r.ID); err != nil {
		return err
	}
	if !r.State.Valid() {
		return fmt.Errorf("%q is not a run state", r.State)
	}
	return nil
}

// UpdateRun reads a team's run, lets fn change it, and writes it back, all
// in one transaction, so that two updates (the runner finishing, a member
// canceling) cannot overwrite each other. If fn returns an error nothing
// is written and UpdateRun returns it. fn runs inside the transaction: it
// must be quick and must not call the Store.
func (s *Store) UpdateRun(team, id string, fn func(*Run) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		r, err := getRun(b, team, id)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		if r.ID != id || r.Team != team {
			return fmt.Errorf("cannot move run %s of team %s to run %s of team %s: IDs and teams do not change", id, team, r.ID, r.Team)
		}
		if err := checkRun(r); err != nil {
			return fmt.Errorf("cannot update run %s: %w", id, err)
		}
		js, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("cannot encode run %s: %w", id, err)
		}
		return b.Put(key(team, id), js)
	})
}

// GetRun returns a team's run; another team's is ErrNotFound.
func (s *Store) GetRun(team, id string) (*Run, error) {
	var r *Run
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		r, err = getRun(tx.Bucket(bucketRuns), team, id)
		return err
	})
	return r, err
}

func getRun(b *bolt.Bucket, team, id string) (*Run, error) {
	v := b.Get(key(team, id))
	if v == nil {
		return nil, fmt.Errorf("no run %s in team %s: %w", id, team, ErrNotFound)
	}
	return decodeRun(v)
}

func decodeRun(v []byte) (*Run, error) {
	r := new(Run)
	if err := cwljson.Decode(v, r); err != nil {
		return nil, fmt.Errorf("a run record cannot be read: %w", err)
	}
	cwljson.Normalize(r.Inputs)
	cwljson.Normalize(r.Outputs)
	return r, nil
}

// DeleteRun forgets a finished run and its events; a run still queued or
// running is ErrRunActive (cancel it first). The run's directory is the
// caller's to remove.
func (s *Store) DeleteRun(team, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		r, err := getRun(tx.Bucket(bucketRuns), team, id)
		if err != nil {
			return err
		}
		if !r.State.Finished() {
			return fmt.Errorf("run %s of team %s is %s; cancel it and let it finish before deleting it: %w", id, team, r.State, ErrRunActive)
		}
		if err := deleteRunEvents(tx, team, id); err != nil {
			return fmt.Errorf("cannot delete the events of run %s: %w", id, err)
		}
		return tx.Bucket(bucketRuns).Delete(key(team, id))
	})
}

// Unfinished returns the runs of every team that have not finished
// (QUEUED, INITIALIZING, RUNNING, CANCELING), oldest first: what a
// restarted daemon must take up again, in the order they were submitted.
func (s *Store) Unfinished() ([]*Run, error) {
	var runs []*Run
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			r, err := decodeRun(v)
			if err != nil {
				return fmt.Errorf("run %q: %w", k, err)
			}
			if !r.State.Finished() {
				runs = append(runs, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list unfinished runs in %s: %w", s.path, err)
	}
	slices.SortStableFunc(runs, func(a, b *Run) int { return a.Submitted.Compare(b.Submitted) })
	return runs, nil
}
