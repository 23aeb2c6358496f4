package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// LastEventID returns the ID of the team's latest event (0 before its
// first): a client that wants only what happens from now on follows the
// team's events after it, rather than receiving its whole history.
func (s *Store) LastEventID(team string) (uint64, error) {
	if err := checkName("team", team); err != nil {
		return 0, fmt.Errorf("cannot read events: %w", err)
	}
	var last uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketEventSeq).Get([]byte(team)); len(v) == 8 {
			last = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return last, err
}
