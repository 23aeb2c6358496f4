package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// tokenPrefix marks flowd tokens, so that a secret scanner (or a person)
// recognises one pasted where it should not be.
const tokenPrefix = "flowd_"

// tokenLen is the length of a secret: the prefix and 32 random bytes in
// unpadded base64url (43 characters).
var tokenLen = len(tokenPrefix) + base64.RawURLEncoding.EncodedLen(32)

// lastUsedEvery is how stale Token.LastUsed may get: Verify writes it at
// most this often per token, not on every request.
const lastUsedEvery = time.Minute

// Token is a bearer token as listed: never its secret nor its hash.
type Token struct {
	ID       string    `json:"id"`
	Team     string    `json:"team"`
	Name     string    `json:"name"` // what the member called it, e.g. "alice laptop"
	Role     Role      `json:"role"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"` // to the minute; see lastUsedEvery
	Revoked  time.Time `json:"revoked,omitzero"`
}

// tokenRecord is a Token as stored: with the SHA-256 of its secret.
type tokenRecord struct {
	Token
	Hash []byte `json:"hash"`
}

// CreateToken makes a token for a team member and returns its secret,
// which exists only in the return value: the database keeps its SHA-256.
func (s *Store) CreateToken(team string, role Role, name string) (secret string, tok Token, err error) {
	if err := CheckTeam(team); err != nil {
		return "", Token{}, fmt.Errorf("cannot create a token: %w", err)
	}
	if !role.Valid() {
		return "", Token{}, fmt.Errorf("cannot create a token with role %q: the roles are viewer, operator and admin", role)
	}
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	secret = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(secret))
	rec := tokenRecord{Hash: sum[:], Token: Token{
		ID: s.ids.next(), Team: team, Name: name, Role: role, Created: time.Now().UTC(),
	}}
	js, err := json.Marshal(rec)
	if err != nil {
		return "", Token{}, fmt.Errorf("cannot encode token %s: %w", rec.ID, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		ref := key(team, rec.ID)
		if err := tx.Bucket(bucketTokenHash).Put(sum[:], ref); err != nil {
			return err
		}
		return tx.Bucket(bucketTokens).Put(ref, js)
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("cannot store token %s of team %s: %w", rec.ID, team, err)
	}
	return secret, rec.Token, nil
}

// Verify returns the token whose secret this is, or ErrUnauthorized if it
// is unknown, revoked, empty or malformed.
//
// It looks the token up by the SHA-256 of the secret and then compares the
// stored hash in constant time. The lookup's timing could at most tell how
// many leading bytes of a hash match a stored one, which is no help: to
// choose a hash's bytes one would have to invert SHA-256.
func (s *Store) Verify(secret string) (Token, error) {
	if len(secret) != tokenLen || !strings.HasPrefix(secret, tokenPrefix) {
		return Token{}, ErrUnauthorized // the format is public; no need to hide this
	}
	sum := sha256.Sum256([]byte(secret))
	var rec tokenRecord
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ref := tx.Bucket(bucketTokenHash).Get(sum[:])
		if ref == nil {
			return nil
		}
		v := tx.Bucket(bucketTokens).Get(ref)
		found = v != nil
		if !found {
			return nil
		}
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return Token{}, fmt.Errorf("cannot read tokens in %s: %w", s.path, err)
	}
	if !found || subtle.ConstantTimeCompare(rec.Hash, sum[:]) != 1 || !rec.Revoked.IsZero() {
		return Token{}, ErrUnauthorized
	}
	if time.Since(rec.LastUsed) >= lastUsedEvery {
		rec.LastUsed = s.touchToken(rec.Team, rec.ID, rec.LastUsed)
	}
	return rec.Token, nil
}

// touchToken records that a token was just used and returns the new
// LastUsed. It is best effort: a database that cannot write just now
// should not lock every member out, so a failure keeps the old time.
func (s *Store) touchToken(team, id string, old time.Time) time.Time {
	now := time.Now().UTC().Truncate(time.Second)
	err := s.updateToken(team, id, func(rec *tokenRecord) { rec.LastUsed = now })
	if err != nil {
		return old
	}
	return now
}

// updateToken changes a token record in one transaction.
func (s *Store) updateToken(team, id string, fn func(*tokenRecord)) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		v := b.Get(key(team, id))
		if v == nil {
			return fmt.Errorf("no token %s in team %s: %w", id, team, ErrNotFound)
		}
		var rec tokenRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("token %s of team %s cannot be read: %w", id, team, err)
		}
		fn(&rec)
		if !rec.Revoked.IsZero() {
			// Verify finds tokens through this index; without the entry
			// the secret no longer leads anywhere.
			if err := tx.Bucket(bucketTokenHash).Delete(rec.Hash); err != nil {
				return err
			}
		}
		js, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put(key(team, id), js)
	})
}

// Tokens lists a team's tokens, revoked ones too (with Revoked set), oldest
// first.
func (s *Store) Tokens(team string) ([]Token, error) {
	if err := checkName("team", team); err != nil {
		return nil, fmt.Errorf("cannot list tokens: %w", err)
	}
	var toks []Token
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTokens).Cursor()
		p := prefix(team)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var rec tokenRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("token %q cannot be read: %w", k[len(p):], err)
			}
			toks = append(toks, rec.Token)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list the tokens of team %s: %w", team, err)
	}
	return toks, nil
}

// RevokeToken makes a team's token useless at once; it stays listed, with
// the time it was revoked. Revoking it again changes nothing.
func (s *Store) RevokeToken(team, id string) error {
	now := time.Now().UTC()
	err := s.updateToken(team, id, func(rec *tokenRecord) {
		if rec.Revoked.IsZero() {
			rec.Revoked = now
		}
	})
	if err == nil {
		s.revoked.broadcast(false) // open streams check their tokens
	}
	return err
}
