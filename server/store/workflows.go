package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Workflow is a workflow version a team registered, for members to run by
// name instead of uploading the documents each time.
type Workflow struct {
	Team    string    `json:"team"`
	Name    string    `json:"name"`
	Version string    `json:"version"`
	Dir     string    `json:"dir"`  // where its files are
	Main    string    `json:"main"` // the document to run, in Dir
	Created time.Time `json:"created"`
}

// PutWorkflow registers a workflow version, setting Created when zero. A
// version, once registered, stays what it was (ErrExists), so that a run
// that names it means one thing; register a new version instead.
func (s *Store) PutWorkflow(w *Workflow) error {
	for _, part := range [][2]string{{"team", w.Team}, {"workflow name", w.Name}, {"workflow version", w.Version}} {
		if err := checkName(part[0], part[1]); err != nil {
			return fmt.Errorf("cannot register a workflow: %w", err)
		}
	}
	if w.Created.IsZero() {
		w.Created = time.Now().UTC()
	}
	js, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("cannot encode workflow %s: %w", w.Name, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, k := tx.Bucket(bucketWorkflows), key(w.Team, w.Name, w.Version)
		if b.Get(k) != nil {
			return fmt.Errorf("workflow %s version %s is already registered in team %s: %w", w.Name, w.Version, w.Team, ErrExists)
		}
		return b.Put(k, js)
	})
}

// Workflows lists a team's workflows by name, each name's versions newest
// first.
func (s *Store) Workflows(team string) ([]*Workflow, error) {
	if err := checkName("team", team); err != nil {
		return nil, fmt.Errorf("cannot list workflows: %w", err)
	}
	ws, err := s.scanWorkflows(prefix(team))
	if err != nil {
		return nil, fmt.Errorf("cannot list the workflows of team %s: %w", team, err)
	}
	slices.SortStableFunc(ws, func(a, b *Workflow) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return b.Created.Compare(a.Created)
	})
	return ws, nil
}

// GetWorkflow returns one version of a team's workflow, or with version ""
// the one registered last.
func (s *Store) GetWorkflow(team, name, version string) (*Workflow, error) {
	p := prefix(team, name)
	if version != "" {
		p = key(team, name, version)
	}
	ws, err := s.scanWorkflows(p)
	if err != nil {
		return nil, err
	}
	// A version's key is a prefix of longer versions' keys ("1" of "1.2"):
	// keep exact matches only.
	ws = slices.DeleteFunc(ws, func(w *Workflow) bool { return version != "" && w.Version != version })
	if len(ws) == 0 {
		return nil, fmt.Errorf("no workflow %s%s in team %s: %w", name, versionText(version), team, ErrNotFound)
	}
	return slices.MaxFunc(ws, func(a, b *Workflow) int { return a.Created.Compare(b.Created) }), nil
}

func versionText(version string) string {
	if version == "" {
		return ""
	}
	return " version " + version
}

// scanWorkflows decodes the workflows whose keys start with p.
func (s *Store) scanWorkflows(p []byte) ([]*Workflow, error) {
	var ws []*Workflow
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketWorkflows).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			w := new(Workflow)
			if err := json.Unmarshal(v, w); err != nil {
				return fmt.Errorf("workflow %q cannot be read: %w", k, err)
			}
			ws = append(ws, w)
		}
		return nil
	})
	return ws, err
}
