package store

import (
	"bytes"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// Event IDs are counted per team (bucket eventseq: <team> → last ID,
// uint64 big-endian). With one count for the whole daemon, a team that
// watched its own IDs would see the gaps other teams' events left, and so
// how busy they were; per team, its IDs follow one another and say
// nothing of anyone else.

// nextEventID takes the team's next event ID in tx.
func nextEventID(tx *bolt.Tx, team string) (uint64, error) {
	b := tx.Bucket(bucketEventSeq)
	var last uint64
	if v := b.Get([]byte(team)); len(v) == 8 {
		last = binary.BigEndian.Uint64(v)
	}
	return last + 1, b.Put([]byte(team), binary.BigEndian.AppendUint64(nil, last+1))
}

// migrateEventIDs moves a database of schema version 1, whose event IDs
// came from one daemon-wide sequence, to per-team counts: every team known
// then continues after the last daemon-wide ID, so that no ID a client has
// seen (and may send back as Last-Event-ID) is ever given again. Teams
// that come later count from 1.
func migrateEventIDs(tx *bolt.Tx) error {
	last := tx.Bucket(bucketEvents).Sequence()
	if last == 0 {
		return nil
	}
	seq := tx.Bucket(bucketEventSeq)
	for _, name := range [][]byte{bucketTokens, bucketRuns, bucketEvents, bucketWorkflows, bucketSSHKeys} {
		err := tx.Bucket(name).ForEach(func(k, _ []byte) error {
			i := bytes.IndexByte(k, sep)
			if i < 0 {
				return nil
			}
			return seq.Put(bytes.Clone(k[:i]), binary.BigEndian.AppendUint64(nil, last))
		})
		if err != nil {
			return err
		}
	}
	return nil
}
