package store

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"
)

func TestKeyFileIsCreatedOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir)
	fi, err := os.Stat(filepath.Join(dir, "flowd.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("flowd.key has mode %v and %d bytes, want 0600 and 32", fi.Mode().Perm(), fi.Size())
	}
}

func TestLooseKeyFileIsRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		dir := t.TempDir()
		s := openStore(t, dir)
		_ = s.Close()
		keyPath := filepath.Join(dir, "flowd.key")
		if err := os.Chmod(keyPath, mode); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir)
		if err == nil {
			_ = s.Close()
			t.Fatalf("a key file with mode %#o was accepted", mode)
		}
		if !strings.Contains(err.Error(), keyPath) || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("the error should name %s and the fix: %v", keyPath, err)
		}
	}
}

// TestRestartKeepsPrivateKeys: the key file is reused on reopening, so a
// private key made before a restart decrypts, byte for byte, after it, and
// still matches the public key that was listed.
func TestRestartKeepsPrivateKeys(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.GenerateSSHKey("genomics", "hpc1")
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.PrivateKey("genomics", k.ID)
	if err != nil {
		t.Fatal(err)
	}
	keyBefore, _ := os.ReadFile(filepath.Join(dir, "flowd.key"))
	_ = s.Close()

	s = openStore(t, dir)
	keyAfter, _ := os.ReadFile(filepath.Join(dir, "flowd.key"))
	if !bytes.Equal(keyBefore, keyAfter) {
		t.Fatal("reopening changed flowd.key")
	}
	after, err := s.PrivateKey("genomics", k.ID)
	if err != nil {
		t.Fatalf("the private key does not decrypt after a restart: %v", err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("the private key changed across a restart")
	}
	signer, err := ssh.ParsePrivateKey(after)
	if err != nil {
		t.Fatal(err)
	}
	listed, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.PublicKey))
	if err != nil {
		t.Fatalf("PublicKey %q is not an authorized_keys line: %v", k.PublicKey, err)
	}
	if !bytes.Equal(signer.PublicKey().Marshal(), listed.Marshal()) || ssh.FingerprintSHA256(listed) != k.Fingerprint {
		t.Fatal("the private key does not belong to the listed public key")
	}
	if _, ok := listed.(ssh.CryptoPublicKey).CryptoPublicKey().(ed25519.PublicKey); !ok {
		t.Fatalf("the key is %s, not ed25519", listed.Type())
	}
}

func TestWrongKeyFileFailsClearly(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.GenerateSSHKey("genomics", "hpc1")
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	other := make([]byte, 32)
	_, _ = rand.Read(other)
	if err := os.WriteFile(filepath.Join(dir, "flowd.key"), other, 0o600); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	pem, err := s.PrivateKey("genomics", k.ID)
	wantErr(t, err, ErrKeyMismatch, "decrypting with another key file")
	if pem != nil || !strings.Contains(err.Error(), "flowd.key") {
		t.Fatalf("want no key and an error naming the key file, got %q, %v", pem, err)
	}
	if keys, err := s.SSHKeys("genomics"); err != nil || len(keys) != 1 {
		t.Fatalf("the public halves should still be listed: %v %v", keys, err)
	}
	if err := s.DeleteSSHKey("genomics", k.ID); err != nil {
		t.Fatalf("an undecryptable key should still be deletable: %v", err)
	}
}

// TestSealedKeyIsBoundToTeamAndID copies one team's sealed key under
// another team, and alters a sealed key, and finds that neither opens.
func TestSealedKeyIsBoundToTeamAndID(t *testing.T) {
	s := openStore(t, t.TempDir())
	k, err := s.GenerateSSHKey("a", "hpc1")
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSSHKeys)
		var rec sshKeyRecord
		if err := json.Unmarshal(b.Get(key("a", k.ID)), &rec); err != nil {
			return err
		}
		rec.Team = "b"
		moved, _ := json.Marshal(rec)
		rec.Team = "a"
		rec.Sealed[0] ^= 1
		altered, _ := json.Marshal(rec)
		return errors.Join(b.Put(key("b", k.ID), moved), b.Put(key("a", k.ID), altered))
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.PrivateKey("b", k.ID)
	wantErr(t, err, ErrKeyMismatch, "a sealed key moved to another team")
	_, err = s.PrivateKey("a", k.ID)
	wantErr(t, err, ErrKeyMismatch, "an altered sealed key")
}

// TestMissingKeyFileWithSealedKeysIsRefused: a new key file would make
// every stored SSH key undecryptable, so flowd will not quietly make one.
func TestMissingKeyFileWithSealedKeysIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GenerateSSHKey("a", "hpc1"); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := os.Remove(filepath.Join(dir, "flowd.key")); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err == nil {
		_ = s.Close()
		t.Fatal("a database with sealed keys opened without its key file")
	}
	if !strings.Contains(err.Error(), "missing") {
		t.Fatalf("the error should say the key file is missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "flowd.key")); err == nil {
		t.Fatal("Open made a new key file anyway")
	}
}

func TestSSHKeysAreTeamScoped(t *testing.T) {
	s := openStore(t, t.TempDir())
	k, err := s.GenerateSSHKey("a", "hpc1")
	if err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.SSHKeys("b"); len(keys) != 0 {
		t.Fatalf("team b sees team a's keys: %v", keys)
	}
	_, err = s.PrivateKey("b", k.ID)
	wantErr(t, err, ErrNotFound, "team b reading team a's private key")
	wantErr(t, s.DeleteSSHKey("b", k.ID), ErrNotFound, "team b deleting team a's key")
	keys, err := s.SSHKeys("a")
	if err != nil || len(keys) != 1 || keys[0] != k {
		t.Fatalf("team a's keys: %v %v, want [%v]", keys, err, k)
	}
	if !strings.HasPrefix(k.PublicKey, "ssh-ed25519 ") || !strings.HasPrefix(k.Fingerprint, "SHA256:") {
		t.Fatalf("key %+v", k)
	}
}
