package storage

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/s3test"
)

// testData is size bytes that differ from one offset to the next, so a
// part written at the wrong place shows.
func testData(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// s3Stores is a Stores whose storage.yaml sends every bucket to the test
// S3 server, with keys from two environment variables.
func s3Stores(t *testing.T, srv *s3test.S3, access, secret string) *Stores {
	t.Helper()
	t.Setenv("TEST_S3_AK", access)
	t.Setenv("TEST_S3_SK", secret)
	cfg := writeConfig(t, "s3:\n  - name: test\n    endpoint: "+srv.Endpoint+"\n    credentials: {access_key_env: TEST_S3_AK, secret_key_env: TEST_S3_SK}\n")
	st, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func writeConfig(t *testing.T, yaml string) *Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "storage.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestBackends is the suite every backend that stores objects passes:
// what Put stored, Stat describes, Open reads (whole and by range) and
// List finds; a missing object is ErrNotFound.
func TestBackends(t *testing.T) {
	backends := map[string]func(t *testing.T) (*Stores, string){
		"local": func(t *testing.T) (*Stores, string) {
			st, _ := New(nil)
			return st, "file://" + t.TempDir()
		},
		"s3": func(t *testing.T) (*Stores, string) {
			srv := s3test.Server(t)
			return s3Stores(t, srv, srv.AccessKey, srv.SecretKey), "s3://" + srv.Bucket(t)
		},
	}
	for name, setup := range backends {
		t.Run(name, func(t *testing.T) {
			st, base := setup(t)
			ctx := context.Background()
			data := testData(300_000)
			src := filepath.Join(t.TempDir(), "src")
			os.WriteFile(src, data, 0o644)
			for _, key := range []string{"run42/a.txt", "run42/sub/b.txt"} {
				b, u, err := st.For(base + "/" + key)
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Put(ctx, u, src, PutMeta{SHA1: sha1Hex(data), Size: int64(len(data))}); err != nil {
					t.Fatalf("Put %s: %v", u, err)
				}
			}
			b, u, _ := st.For(base + "/run42/a.txt")
			info, err := b.Stat(ctx, u)
			if err != nil || info.Size != int64(len(data)) {
				t.Fatalf("Stat = %+v, %v; want size %d", info, err, len(data))
			}
			// S3 computes the SHA-1 of what it received; local files carry none.
			if wantSHA1 := name == "s3"; (info.SHA1 != "") != wantSHA1 || (wantSHA1 && info.SHA1 != sha1Hex(data)) {
				t.Errorf("Stat's SHA-1 is %q; the data's is %s", info.SHA1, sha1Hex(data))
			}
			r, err := b.Open(ctx, u, 1000, 5000)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			if !bytes.Equal(got, data[1000:6000]) {
				t.Errorf("Open(1000, 5000) read %d bytes, not the object's bytes 1000 to 6000", len(got))
			}
			_, ud, _ := st.For(base + "/run42/")
			infos, err := b.List(ctx, ud)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, i := range infos {
				names = append(names, i.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"a.txt", "sub/b.txt"}) {
				t.Errorf("List = %v", names)
			}
			_, um, _ := st.For(base + "/run42/missing.txt")
			if _, err := b.Stat(ctx, um); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat of a missing object: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestS3WrongCredentials: keys the server does not know are refused as
// forbidden, and the message holds neither key.
func TestS3WrongCredentials(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "k", []byte("x"))
	st := s3Stores(t, srv, "NOTAKEY", "wrong-secret-value")
	c := &Cache{Dir: t.TempDir(), Stores: st}
	_, err := c.FetchFile(context.Background(), "s3://"+bucket+"/k")
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("err = %v, want ErrForbidden", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line without the secret: %q", err)
	}
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestS3Unreachable: an S3 endpoint where nothing listens is unreachable,
// said in one line.
func TestS3Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	t.Setenv("TEST_S3_AK", "a")
	t.Setenv("TEST_S3_SK", "b")
	st, err := New(writeConfig(t, "s3:\n  - name: gone\n    endpoint: http://"+addr+"\n    credentials: {access_key_env: TEST_S3_AK, secret_key_env: TEST_S3_SK}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&Cache{Dir: t.TempDir(), Stores: st}).FetchFile(context.Background(), "s3://b/k")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v; want one line saying %s is unreachable", err, addr)
	}
}
