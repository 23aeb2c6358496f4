package store

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A team's S3 credentials are kept like its SSH keys: the keys sealed
// with AES-256-GCM under flowd.key, bound to the team and record ID, and
// opened only to start that team's runs.
//
//	s3creds/
//	  <team>\0<credID> → JSON s3CredRecord (settings, sealed keys)
var bucketS3Creds = []byte("s3creds")

// S3Credential is a team's settings for one S3 service, as listed: no
// keys, only the first characters of the access key ID.
type S3Credential struct {
	ID        string    `json:"id"`
	Team      string    `json:"team"`
	Name      string    `json:"name"`
	Endpoint  string    `json:"endpoint,omitempty"` // "" for AWS
	Region    string    `json:"region,omitempty"`
	Buckets   []string  `json:"buckets,omitempty"` // none: every bucket no other entry lists
	AccessKey string    `json:"access_key_hint"`   // e.g. "AKIA…", never the whole ID
	Created   time.Time `json:"created"`
}

// S3Keys are the keys of an S3Credential, opened.
type S3Keys struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

type s3CredRecord struct {
	S3Credential
	KeyID  string `json:"key_id"`
	Nonce  []byte `json:"nonce"`
	Sealed []byte `json:"sealed"` // AES-256-GCM of JSON S3Keys
}

func s3SealedData(team, id string) []byte {
	return append([]byte("flowd s3 credential\x00"), key(team, id)...)
}

// AddS3Credential keeps a team's settings for an S3 service with its
// keys sealed.
func (s *Store) AddS3Credential(team string, c S3Credential, keys S3Keys) (S3Credential, error) {
	if err := checkName("team", team); err != nil {
		return S3Credential{}, err
	}
	if err := checkName("S3 credential name", c.Name); err != nil {
		return S3Credential{}, err
	}
	if keys.AccessKey == "" || keys.SecretKey == "" {
		return S3Credential{}, fmt.Errorf("S3 credential %s needs an access key and a secret key", c.Name)
	}
	c.ID, c.Team, c.Created = s.ids.next(), team, time.Now().UTC()
	c.AccessKey = hint(keys.AccessKey)
	plain, err := json.Marshal(keys)
	if err != nil {
		return S3Credential{}, err
	}
	defer clear(plain)
	rec := s3CredRecord{S3Credential: c, KeyID: s.keys.keyID, Nonce: make([]byte, s.keys.seal.NonceSize())}
	_, _ = rand.Read(rec.Nonce)
	rec.Sealed = s.keys.seal.Seal(nil, rec.Nonce, plain, s3SealedData(team, c.ID))
	js, err := json.Marshal(rec)
	if err != nil {
		return S3Credential{}, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketS3Creds)
		if err != nil {
			return err
		}
		return b.Put(key(team, c.ID), js)
	})
	if err != nil {
		return S3Credential{}, fmt.Errorf("cannot store S3 credential %s of team %s: %w", c.Name, team, err)
	}
	return c, nil
}

// hint is the start of an access key ID, enough to tell keys apart.
func hint(access string) string {
	if len(access) <= 4 {
		return "…"
	}
	return access[:4] + "…"
}

// S3Credentials lists a team's S3 settings, oldest first, without keys.
func (s *Store) S3Credentials(team string) ([]S3Credential, error) {
	recs, err := s.s3Records(team)
	out := make([]S3Credential, len(recs))
	for i, r := range recs {
		out[i] = r.S3Credential
	}
	return out, err
}

// OpenS3Credentials returns a team's S3 settings with their keys, to
// start one of the team's runs; nothing else may call it.
func (s *Store) OpenS3Credentials(team string) ([]S3Credential, []S3Keys, error) {
	recs, err := s.s3Records(team)
	if err != nil {
		return nil, nil, err
	}
	creds, keys := make([]S3Credential, len(recs)), make([]S3Keys, len(recs))
	for i, r := range recs {
		if r.KeyID != s.keys.keyID {
			return nil, nil, fmt.Errorf("S3 credential %s of team %s was sealed with another key file (id %s): %w", r.Name, team, r.KeyID, ErrKeyMismatch)
		}
		plain, err := s.keys.seal.Open(nil, r.Nonce, r.Sealed, s3SealedData(team, r.ID))
		if err != nil {
			return nil, nil, fmt.Errorf("S3 credential %s of team %s does not decrypt with %s: its record was altered: %w", r.Name, team, s.keyPath, ErrKeyMismatch)
		}
		err = json.Unmarshal(plain, &keys[i])
		clear(plain)
		if err != nil {
			return nil, nil, err
		}
		creds[i] = r.S3Credential
	}
	return creds, keys, nil
}

func (s *Store) s3Records(team string) ([]s3CredRecord, error) {
	if err := checkName("team", team); err != nil {
		return nil, err
	}
	var recs []s3CredRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketS3Creds)
		if b == nil {
			return nil
		}
		c, p := b.Cursor(), prefix(team)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var r s3CredRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("S3 credential %q cannot be read: %w", k[len(p):], err)
			}
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list the S3 credentials of team %s: %w", team, err)
	}
	return recs, nil
}

// DeleteS3Credential forgets one of a team's S3 settings and its keys.
func (s *Store) DeleteS3Credential(team, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketS3Creds)
		if b == nil || b.Get(key(team, id)) == nil {
			return fmt.Errorf("no S3 credential %s in team %s: %w", id, team, ErrNotFound)
		}
		return b.Delete(key(team, id))
	})
}
