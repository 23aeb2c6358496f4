package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// keySize is the length of flowd.key: 256 random bits.
const keySize = 32

// checkExistingKeyFile refuses a key file others could read, before Open
// touches anything. A missing one is fine here; init creates it.
func checkExistingKeyFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the key file %s: %w", path, err)
	}
	return checkKeyFileInfo(path, fi)
}

// checkKeyFileInfo insists on a regular file that no group or other user
// can read or write: anyone who reads flowd.key can open every SSH key in
// a copy of the database.
func checkKeyFileInfo(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("the key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("the key file %s has mode %#o, so users other than its owner can read or change it; "+
			"flowd refuses to start with it (run chmod 600 %s)", path, perm, path)
	}
	return nil
}

// loadOrCreateKey reads flowd.key, or writes a new one when there is none.
// A new key cannot open SSH keys sealed with a lost one, so it is only
// made for a database that holds none.
func (s *Store) loadOrCreateKey() ([]byte, error) {
	key, err := readKeyFile(s.keyPath)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	has, err := s.hasSSHKeys()
	if err != nil {
		return nil, err
	}
	if has {
		return nil, fmt.Errorf("the key file %s is missing, but the database %s holds SSH keys sealed with it; "+
			"restore it from a backup (or, to give those keys up, write 32 random bytes to it with mode 0600 and delete them)", s.keyPath, s.path)
	}
	return createKeyFile(s.keyPath)
}

// readKeyFile reads exactly keySize bytes, checking the mode of the file
// it opened (not of a path that could be swapped in between).
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("cannot read the key file %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the key file %s: %w", path, err)
	}
	if err := checkKeyFileInfo(path, fi); err != nil {
		return nil, err
	}
	key, err := io.ReadAll(io.LimitReader(f, keySize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the key file %s: %w", path, err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("the key file %s does not hold exactly the %d random bytes flowd writes; is it the right file?", path, keySize)
	}
	return key, nil
}

// createKeyFile writes keySize random bytes to a new file with mode 0600
// (O_EXCL: never over an existing one) and syncs it and its directory, so
// the key is on disk before any SSH key is sealed with it.
func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, keySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot create the key file %s: %w", path, err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("cannot write the key file %s: %w", path, err)
	}
	return key, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// deriveKeys makes one key per use from flowd.key with HKDF, so that the
// HMAC of a page token, which clients see, never involves the key that
// seals SSH keys.
func deriveKeys(master []byte) (derivedKeys, error) {
	sealKey, err := hkdf.Key(sha256.New, master, nil, "flowd ssh key sealing", 32)
	if err != nil {
		return derivedKeys{}, fmt.Errorf("cannot derive keys from the key file: %w", err)
	}
	pageKey, err := hkdf.Key(sha256.New, master, nil, "flowd page tokens", 32)
	if err != nil {
		return derivedKeys{}, fmt.Errorf("cannot derive keys from the key file: %w", err)
	}
	id, err := hkdf.Key(sha256.New, master, nil, "flowd key id", 8)
	if err != nil {
		return derivedKeys{}, fmt.Errorf("cannot derive keys from the key file: %w", err)
	}
	block, err := aes.NewCipher(sealKey) // 32 bytes: AES-256
	if err != nil {
		return derivedKeys{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return derivedKeys{}, err
	}
	return derivedKeys{seal: aead, page: pageKey, keyID: hex.EncodeToString(id)}, nil
}
