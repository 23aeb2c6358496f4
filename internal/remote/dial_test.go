package remote

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func dialErr(t *testing.T, cfg Config) error {
	t.Helper()
	c, err := Dial(testContext(t, 20*time.Second), cfg)
	if err == nil {
		_ = c.Close()
		t.Fatal("Dial succeeded, want an error")
	}
	t.Logf("Dial error (as a user sees it): %v", err)
	return err
}

func TestUnknownHostKeyRefused(t *testing.T) {
	s := startServer(t)
	cfg := s.clientConfig()
	cfg.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, cfg.KnownHosts, "# nothing yet\n", 0o600)

	err := dialErr(t, cfg)
	if !errors.Is(err, ErrUnknownHostKey) {
		t.Errorf("error does not wrap ErrUnknownHostKey: %v", err)
	}
	for _, want := range []string{
		"127.0.0.1:" + strconv.Itoa(s.port),
		"ssh-ed25519",
		ssh.FingerprintSHA256(s.hostKey),
		"ssh-keyscan -p " + strconv.Itoa(s.port) + " 127.0.0.1 >> " + cfg.KnownHosts,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q", want)
		}
	}
}

func TestChangedHostKeyRefused(t *testing.T) {
	s := startServer(t)
	cfg := s.clientConfig()
	impostor := writeKey(t, filepath.Join(t.TempDir(), "other"), nil)
	cfg.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	s.writeKnownHosts(cfg.KnownHosts, impostor.PublicKey())

	err := dialErr(t, cfg)
	if !errors.Is(err, ErrHostKeyChanged) {
		t.Errorf("error does not wrap ErrHostKeyChanged: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "CHANGED") || !strings.Contains(msg, ssh.FingerprintSHA256(s.hostKey)) {
		t.Errorf("message should say the key changed and give the new fingerprint: %s", msg)
	}
}

func TestKnownHostsRequired(t *testing.T) {
	s := startServer(t)
	cfg := s.clientConfig()
	cfg.KnownHosts = filepath.Join(t.TempDir(), "does-not-exist")
	if err := dialErr(t, cfg); !strings.Contains(err.Error(), "does-not-exist") {
		t.Errorf("error should name the missing file: %v", err)
	}
	cfg.KnownHosts = ""
	if err := dialErr(t, cfg); !strings.Contains(err.Error(), "known_hosts") {
		t.Errorf("error should say known_hosts is required: %v", err)
	}
}

func TestEncryptedKey(t *testing.T) {
	s := startServer(t)
	cfg := s.clientConfig()
	cfg.KeyPath = filepath.Join(t.TempDir(), "id_encrypted")
	secret := []byte("correct horse battery staple")
	s.authorize(writeKey(t, cfg.KeyPath, secret).PublicKey())

	cfg.KeyPassphrase = []byte("wrong")
	err := dialErr(t, cfg)
	if !strings.Contains(err.Error(), "passphrase") || !strings.Contains(err.Error(), "wrong") {
		t.Errorf("a wrong passphrase should be named as such: %v", err)
	}
	if strings.Contains(err.Error(), "wrong\"") || strings.Contains(err.Error(), string(secret)) {
		t.Errorf("error leaks a passphrase: %v", err)
	}

	cfg.KeyPassphrase = nil
	if err := dialErr(t, cfg); !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("a missing passphrase should be named as such: %v", err)
	}

	cfg.KeyPassphrase = secret
	c := s.dial(cfg)
	if out, err := c.Run(testContext(t, 10*time.Second), "echo in"); err != nil || string(out) != "in\n" {
		t.Errorf("Run with the encrypted key: %q, %v", out, err)
	}
}

func TestUnauthorizedKeyRefused(t *testing.T) {
	s := startServer(t)
	cfg := s.clientConfig()
	cfg.KeyPath = filepath.Join(t.TempDir(), "id_stranger")
	writeKey(t, cfg.KeyPath, nil)
	if err := dialErr(t, cfg); !strings.Contains(err.Error(), "refused every key") {
		t.Errorf("error should say the keys were refused: %v", err)
	}
}

// An in-process agent (the agent package's keyring) on a unix socket stands
// in for ssh-agent.
func TestAgentKeys(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	signerFile := filepath.Join(dir, "id_agent")
	writeKey(t, signerFile, nil)
	pemKey, err := ssh.ParseRawPrivateKey(mustRead(t, signerFile))
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: pemKey}); err != nil {
		t.Fatal(err)
	}
	keys, _ := keyring.List()
	pub, _ := ssh.ParsePublicKey(keys[0].Blob)
	s.authorize(pub)

	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = agent.ServeAgent(keyring, conn)
			}()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)

	cfg := s.clientConfig()
	cfg.KeyPath = ""
	cfg.UseAgent = true
	c := s.dial(cfg)
	if out, err := c.Run(testContext(t, 10*time.Second), "echo agent"); err != nil || string(out) != "agent\n" {
		t.Errorf("Run with an agent key: %q, %v", out, err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
