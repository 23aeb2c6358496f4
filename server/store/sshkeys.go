package store

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"
)

// SSHKey is a team's key pair as listed: the public half only.
type SSHKey struct {
	ID          string    `json:"id"`
	Team        string    `json:"team"`
	Name        string    `json:"name"`        // e.g. "hpc1"
	PublicKey   string    `json:"public_key"`  // an authorized_keys line
	Fingerprint string    `json:"fingerprint"` // "SHA256:...", as ssh-keygen -l shows it
	Created     time.Time `json:"created"`
}

// sshKeyRecord is an SSHKey as stored, with its private half sealed.
type sshKeyRecord struct {
	SSHKey
	KeyID  string `json:"key_id"` // derivedKeys.keyID of the flowd.key that sealed it
	Nonce  []byte `json:"nonce"`
	Sealed []byte `json:"sealed"` // AES-256-GCM of the OpenSSH PEM
}

// GenerateSSHKey makes an ed25519 key pair for a team and keeps it, the
// private half sealed (see the package doc). Install PublicKey on the
// cluster; the executor gets the private half from PrivateKey.
func (s *Store) GenerateSSHKey(team, name string) (SSHKey, error) {
	if err := checkName("team", team); err != nil {
		return SSHKey{}, fmt.Errorf("cannot generate an SSH key: %w", err)
	}
	if err := checkName("SSH key name", name); err != nil {
		return SSHKey{}, fmt.Errorf("cannot generate an SSH key: %w", err)
	}
	rec, err := s.newSSHKey(team, name)
	if err != nil {
		return SSHKey{}, fmt.Errorf("cannot generate an SSH key %s for team %s: %w", name, team, err)
	}
	js, err := json.Marshal(rec)
	if err != nil {
		return SSHKey{}, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSSHKeys).Put(key(team, rec.ID), js)
	})
	if err != nil {
		return SSHKey{}, fmt.Errorf("cannot store SSH key %s of team %s: %w", rec.ID, team, err)
	}
	return rec.SSHKey, nil
}

// newSSHKey generates the pair and seals the private half. The PEM lives
// only in memory, and is wiped once sealed.
func (s *Store) newSSHKey(team, name string) (*sshKeyRecord, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	defer clear(priv)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	comment := "flowd " + team + "/" + name // says where the key came from in authorized_keys
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	pemBytes := pem.EncodeToMemory(block)
	defer clear(pemBytes)
	clear(block.Bytes)
	rec := &sshKeyRecord{KeyID: s.keys.keyID, SSHKey: SSHKey{
		ID: s.ids.next(), Team: team, Name: name, Created: time.Now().UTC(),
		PublicKey:   strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " " + comment,
		Fingerprint: ssh.FingerprintSHA256(sshPub),
	}}
	rec.Nonce = make([]byte, s.keys.seal.NonceSize())
	_, _ = rand.Read(rec.Nonce) // a fresh nonce per record: GCM must never reuse one with a key
	rec.Sealed = s.keys.seal.Seal(nil, rec.Nonce, pemBytes, sealedData(team, rec.ID))
	return rec, nil
}

// sealedData is the additional data a private key is sealed with: its
// team and ID, so a sealed key moved under another team or ID fails to
// open instead of handing one team's key to another.
func sealedData(team, id string) []byte {
	return append([]byte("flowd ssh key\x00"), key(team, id)...)
}

// SSHKeys lists a team's keys, oldest first, without private halves.
func (s *Store) SSHKeys(team string) ([]SSHKey, error) {
	if err := checkName("team", team); err != nil {
		return nil, fmt.Errorf("cannot list SSH keys: %w", err)
	}
	var keys []SSHKey
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSSHKeys).Cursor()
		p := prefix(team)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var rec sshKeyRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("SSH key %q cannot be read: %w", k[len(p):], err)
			}
			keys = append(keys, rec.SSHKey)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list the SSH keys of team %s: %w", team, err)
	}
	return keys, nil
}

// DeleteSSHKey forgets a team's key for good.
func (s *Store) DeleteSSHKey(team, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSSHKeys)
		if b.Get(key(team, id)) == nil {
			return fmt.Errorf("no SSH key %s in team %s: %w", id, team, ErrNotFound)
		}
		return b.Delete(key(team, id))
	})
}

// PrivateKey returns the OpenSSH PEM of a team's private key, for the
// Slurm executor to log in with. It fails with ErrKeyMismatch when the
// key was sealed with another flowd.key, or the record was tampered with.
func (s *Store) PrivateKey(team, id string) ([]byte, error) {
	var rec sshKeyRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSSHKeys).Get(key(team, id))
		if v == nil {
			return fmt.Errorf("no SSH key %s in team %s: %w", id, team, ErrNotFound)
		}
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return nil, err
	}
	if rec.KeyID != s.keys.keyID {
		return nil, fmt.Errorf("SSH key %s of team %s was sealed with a key file (id %s) other than %s (id %s); "+
			"restore the key file it was made with, or delete the key and generate a new one: %w",
			id, team, rec.KeyID, s.keyPath, s.keys.keyID, ErrKeyMismatch)
	}
	pemBytes, err := s.keys.seal.Open(nil, rec.Nonce, rec.Sealed, sealedData(team, id))
	if err != nil {
		return nil, fmt.Errorf("SSH key %s of team %s does not decrypt with %s: its record was altered: %w",
			id, team, s.keyPath, ErrKeyMismatch)
	}
	return pemBytes, nil
}
