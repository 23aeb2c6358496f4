package remote

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// An image goes up once, whoever asks, under its SHA-256; an interrupted
// upload is continued, not restarted; a damaged partial copy is caught by
// the digest check and never takes the image's name.
func TestStageImageOnceResumableVerified(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 60*time.Second)
	dir := s.remoteDir()
	img := filepath.Join(t.TempDir(), "tool.sif")
	content := bytes.Repeat([]byte("squashfs!"), 200_000) // 1.8 MB
	writeFile(t, img, string(content), 0o644)
	h := sha256.Sum256(content)
	want := filepath.Join(dir, "sha256", hex.EncodeToString(h[:])+".sif")

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if got, err := c.StageImage(ctx, img, dir); err != nil || got != want {
				t.Errorf("StageImage = %s, %v; want %s", got, err, want)
			}
		})
	}
	wg.Wait()
	if n := c.images.Load(); n != 1 {
		t.Errorf("4 stagings of one image made %d uploads, want 1", n)
	}
	if got, _ := os.ReadFile(want); !bytes.Equal(got, content) {
		t.Errorf("the staged image differs from the local one (%d bytes)", len(got))
	}

	// An interrupted upload: half the image is in the partial file.
	dir2 := filepath.Join(dir, "again")
	want2 := strings.Replace(want, dir, dir2, 1)
	partial(t, dir2, want2, content[:len(content)/2])
	before := c.imageBytes.Load()
	if _, err := c.StageImage(ctx, img, dir2); err != nil {
		t.Fatal(err)
	}
	if sent, rest := c.imageBytes.Load()-before, int64(len(content)-len(content)/2); sent != rest {
		t.Errorf("continuing an upload sent %d bytes, want the %d missing", sent, rest)
	}
	if got, _ := os.ReadFile(want2); !bytes.Equal(got, content) {
		t.Errorf("the continued upload gave %d bytes, not the image", len(got))
	}

	// A damaged partial copy: the check refuses it, and it is removed.
	dir3 := filepath.Join(dir, "damaged")
	want3 := strings.Replace(want, dir, dir3, 1)
	damaged := append([]byte("XXXX"), content[4:len(content)/2]...)
	partial(t, dir3, want3, damaged)
	if _, err := c.StageImage(ctx, img, dir3); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a damaged partial upload was accepted: %v", err)
	}
	if _, err := os.Stat(want3); err == nil {
		t.Error("a damaged image took the image's name")
	}
	if _, err := c.StageImage(ctx, img, dir3); err != nil {
		t.Fatalf("the next try did not send the image again: %v", err)
	}
	if got, _ := os.ReadFile(want3); !bytes.Equal(got, content) {
		t.Error("the image sent again differs from the local one")
	}
}

// partial leaves what an interrupted upload of image would have left, as
// the test user.
func partial(t *testing.T, dir, image string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(image), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(image+".partial", data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Dir(image), image + ".partial"} {
		if err := os.Chown(p, testUID, testGID); err != nil {
			t.Fatal(err)
		}
	}
}

// Two flow processes (two clients) staging one image at once: one uploads,
// the other waits for it, and both get the complete image.
func TestStageImageAcrossProcesses(t *testing.T) {
	s := startServer(t)
	a, b := s.dial(s.clientConfig()), s.dial(s.clientConfig())
	ctx := testContext(t, 60*time.Second)
	dir := s.remoteDir()
	img := filepath.Join(t.TempDir(), "tool.sif")
	content := bytes.Repeat([]byte("layer"), 2_000_000) // 10 MB: the uploads overlap
	writeFile(t, img, string(content), 0o644)
	var wg sync.WaitGroup
	paths := make([]string, 2)
	for i, c := range []*Client{a, b} {
		wg.Go(func() {
			p, err := c.StageImage(ctx, img, dir)
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		})
	}
	wg.Wait()
	if n := a.images.Load() + b.images.Load(); n != 1 {
		t.Errorf("two processes staging one image made %d uploads, want 1", n)
	}
	if got, _ := os.ReadFile(paths[0]); paths[0] != paths[1] || !bytes.Equal(got, content) {
		t.Errorf("staged at %q and %q, %d bytes", paths[0], paths[1], len(got))
	}
	if _, err := os.Stat(paths[0] + ".lock"); !os.IsNotExist(err) {
		t.Errorf("the lock is still there: %v", err)
	}
}
