package store

import (
	"encoding/json"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// revocations lets holders of long requests (event streams) learn at once
// that some token was revoked, so that they check theirs: a stream
// authorized once must not outlive its token.
type revocations struct {
	mu     sync.Mutex
	ch     chan struct{}
	closed bool
}

// Revocations returns a channel that is closed at the next revocation of
// any token, or when the Store closes. Take it before checking a token
// with TokenLive, so that no revocation falls between the two.
func (s *Store) Revocations() <-chan struct{} {
	r := &s.revoked
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ch == nil {
		r.ch = make(chan struct{})
		if r.closed {
			close(r.ch)
		}
	}
	return r.ch
}

// broadcast wakes everyone waiting on Revocations.
func (r *revocations) broadcast(final bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ch != nil && !r.closed {
		close(r.ch)
	}
	r.ch = nil
	r.closed = r.closed || final
}

// TokenLive reports whether a team's token exists and is not revoked.
func (s *Store) TokenLive(team, id string) (bool, error) {
	var live bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTokens).Get(key(team, id))
		if v == nil {
			return nil
		}
		var rec tokenRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("token %s of team %s cannot be read: %w", id, team, err)
		}
		live = rec.Revoked.IsZero()
		return nil
	})
	return live, err
}
