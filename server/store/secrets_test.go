package store

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestSecretsNeverReachTheDatabaseFile reads the raw bytes of flowd.db
// after tokens and an SSH key were made, and finds in them neither a token
// secret, nor the private key's PEM, its base64 body or any line of it,
// nor the raw ed25519 seed.
func TestSecretsNeverReachTheDatabaseFile(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, role := range []Role{RoleViewer, RoleOperator, RoleAdmin} {
		secret, _, err := s.CreateToken("genomics", role, string(role))
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, secret, strings.TrimPrefix(secret, tokenPrefix))
	}
	k, err := s.GenerateSSHKey("genomics", "hpc1")
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := s.PrivateKey("genomics", k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(secrets[0]); err != nil { // writes LastUsed: one more commit to check
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "flowd.db"))
	if err != nil {
		t.Fatal(err)
	}

	if !bytes.Contains(raw, []byte(k.Fingerprint)) {
		t.Fatal("flowd.db does not even hold the key's fingerprint: is this the right file?")
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatalf("PrivateKey returned no PEM: %q", pemBytes)
	}
	body := base64.StdEncoding.EncodeToString(block.Bytes)
	forbidden := append(secrets, string(pemBytes), body)
	for line := range strings.Lines(string(pemBytes)) {
		if line = strings.TrimSpace(line); !strings.HasPrefix(line, "-----") {
			forbidden = append(forbidden, line)
		}
	}
	for _, f := range forbidden {
		if bytes.Contains(raw, []byte(f)) {
			t.Fatalf("flowd.db holds the secret %.20q...", f)
		}
	}
	priv, err := ssh.ParseRawPrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	seed := priv.(*ed25519.PrivateKey).Seed()
	if bytes.Contains(raw, seed) {
		t.Fatal("flowd.db holds the raw ed25519 seed")
	}
}
