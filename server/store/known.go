package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// RunIDs returns the IDs of every team's runs, so that the daemon can tell
// a run's directory from one a crash left behind.
func (s *Store) RunIDs() (map[string]bool, error) {
	ids := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(k, _ []byte) error {
			if i := bytes.IndexByte(k, sep); i >= 0 {
				ids[string(k[i+1:])] = true
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list runs in %s: %w", s.path, err)
	}
	return ids, nil
}

// AllWorkflows returns every team's registered workflows.
func (s *Store) AllWorkflows() ([]*Workflow, error) {
	ws, err := s.scanWorkflows(nil)
	if err != nil {
		return nil, fmt.Errorf("cannot list workflows in %s: %w", s.path, err)
	}
	return ws, nil
}
