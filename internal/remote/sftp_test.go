package remote

import (
	"crypto/sha1"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUploadDownloadStat(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 30*time.Second)
	local := t.TempDir()
	remote := s.remoteDir() // the server runs on this machine: a "remote" dir

	src := filepath.Join(local, "tool.sh")
	content := strings.Repeat("#!/bin/sh\necho payload\n", 50000) // ~1 MB, several SFTP packets
	writeFile(t, src, content, 0o750)

	dst := filepath.Join(remote, "new/sub dir/tool.sh")
	if err := c.Upload(ctx, src, dst); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != content {
		t.Fatalf("uploaded file: %d bytes, %v; want the %d bytes sent", len(got), err, len(content))
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o750 {
		t.Errorf("uploaded mode = %v, want 0750", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(filepath.Dir(dst)); len(entries) != 1 {
		t.Errorf("upload left %d entries beside the target, want only the target", len(entries))
	}

	// Uploading again replaces the file atomically.
	writeFile(t, src, "v2\n", 0o644)
	if err := os.Chmod(src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Upload(ctx, src, dst); err != nil {
		t.Fatalf("second Upload: %v", err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "v2\n" {
		t.Errorf("after the second upload the file holds %q", got)
	}

	fi, err := c.Stat(ctx, dst)
	if err != nil || fi.Size() != 3 || fi.IsDir() || fi.Mode().Perm() != 0o644 {
		t.Errorf("Stat = %v, %v; want a 3-byte 0644 file", fi, err)
	}
	if _, err := c.Stat(ctx, filepath.Join(remote, "missing")); !os.IsNotExist(err) && !strings.Contains(err.Error(), "not exist") {
		t.Errorf("Stat of a missing file: %v, want a not-exist error", err)
	}

	back := filepath.Join(local, "back.sh")
	if err := c.Download(ctx, dst, back); err != nil {
		t.Fatalf("Download: %v", err)
	}
	if got, _ := os.ReadFile(back); string(got) != "v2\n" {
		t.Errorf("downloaded %q", got)
	}
	if err := c.Download(ctx, filepath.Join(remote, "missing"), back); err == nil {
		t.Error("Download of a missing file succeeded")
	}
	if got, _ := os.ReadFile(back); string(got) != "v2\n" {
		t.Errorf("a failed download changed the local file to %q", got)
	}
}

func TestGlobAndReadDir(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 30*time.Second)
	dir := s.remoteDir()
	for _, name := range []string{"b.txt", "a.txt", "c.log", "odd name's.txt"} {
		writeFile(t, filepath.Join(dir, name), name, 0o644)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}

	matches, err := c.Glob(ctx, filepath.Join(dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(matches)
	want := []string{filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt"), filepath.Join(dir, "odd name's.txt")}
	if !slices.Equal(matches, want) {
		t.Errorf("Glob = %q, want %q", matches, want)
	}

	list, err := c.ReadDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range list {
		names = append(names, fi.Name())
		if fi.Name() == "sub" && !fi.IsDir() {
			t.Error("ReadDir says sub is not a directory")
		}
	}
	if want := []string{"a.txt", "b.txt", "c.log", "odd name's.txt", "sub"}; !slices.Equal(names, want) {
		t.Errorf("ReadDir names = %q, want %q", names, want)
	}
}

func TestSHA1(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 30*time.Second)
	dir := s.remoteDir()
	names := []string{"plain", "with space", "it's", "new\nline", `back\slash`, "$(x)", "-dash"}
	var paths []string
	want := map[string]string{}
	for i, name := range names {
		p := filepath.Join(dir, name)
		content := strings.Repeat(name, i+1)
		writeFile(t, p, content, 0o644)
		sum := sha1.Sum([]byte(content))
		paths = append(paths, p)
		want[p] = "sha1$" + hex.EncodeToString(sum[:])
	}
	got, err := c.SHA1(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("SHA1[%q] = %q, want %q", p, got[p], w)
		}
	}
	if _, err := c.SHA1(ctx, append(paths, filepath.Join(dir, "missing"))); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("SHA1 with a missing file: %v, want an error naming it", err)
	}
}

// Many paths still make one remote call, split over several command lines.
func TestSHA1ManyPaths(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	dir := s.remoteDir()
	writeFile(t, filepath.Join(dir, "f"), "x", 0o644)
	var paths []string
	for i := 0; i < 3000; i++ { // ~300 KB of arguments, beyond one argument string's limit
		paths = append(paths, dir+strings.Repeat("/", i%50+1)+"f")
	}
	got, err := c.SHA1(testContext(t, 60*time.Second), paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 || got[paths[0]] != "sha1$11f6ad8ec52a2984abaafd7c3b516503785c2072" {
		t.Errorf("got %d sums, %q for the first; want 50 distinct paths with sha1 of x", len(got), got[paths[0]])
	}
}
