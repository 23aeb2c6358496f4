package remote

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestStageFileUploadsOnce(t *testing.T) {
	s := startServer(t)
	c := s.dial(s.clientConfig())
	ctx := testContext(t, 60*time.Second)
	root := s.remoteDir()
	src := filepath.Join(t.TempDir(), "input.fastq")
	writeFile(t, src, "ACGT\n", 0o644)

	var wg sync.WaitGroup
	paths := make([]string, 8)
	for i := range paths {
		wg.Go(func() {
			p, err := c.StageFile(ctx, src, root)
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		})
	}
	wg.Wait()
	for _, p := range paths {
		if p != paths[0] {
			t.Fatalf("concurrent StageFile returned %q and %q", paths[0], p)
		}
	}
	sum, _ := c.hashes.sum(ctx, src, mustStat(t, src))
	if wantPath := filepath.Join(root, "sha1", sum[:2], sum, "input.fastq"); paths[0] != wantPath {
		t.Errorf("staged at %s, want %s", paths[0], wantPath)
	}
	if got, _ := os.ReadFile(paths[0]); string(got) != "ACGT\n" {
		t.Errorf("staged file holds %q", got)
	}
	if n := c.uploads.Load(); n != 1 {
		t.Errorf("8 concurrent stagings made %d uploads, want 1", n)
	}

	// Staging again finds the file there.
	if _, err := c.StageFile(ctx, src, root); err != nil {
		t.Fatal(err)
	}
	// Same content under another name is another path, so another upload.
	other := filepath.Join(t.TempDir(), "copy.fastq")
	writeFile(t, other, "ACGT\n", 0o644)
	p2, err := c.StageFile(ctx, other, root)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p2) != filepath.Dir(paths[0]) {
		t.Errorf("same content staged under %s and %s", filepath.Dir(p2), filepath.Dir(paths[0]))
	}
	if n := c.uploads.Load(); n != 2 {
		t.Errorf("uploads = %d after restaging and one new name, want 2", n)
	}

	// A truncated remote copy (an interrupted earlier run) is replaced.
	writeFile(t, paths[0], "AC", 0o644)
	if _, err := c.StageFile(ctx, src, root); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(paths[0]); string(got) != "ACGT\n" {
		t.Errorf("a short remote copy was kept: %q", got)
	}

	// Changed local content is hashed again, not served from the cache.
	time.Sleep(10 * time.Millisecond)
	writeFile(t, src, "TTTT\n", 0o644)
	p3, err := c.StageFile(ctx, src, root)
	if err != nil {
		t.Fatal(err)
	}
	if p3 == paths[0] {
		t.Error("changed content was staged at the old path")
	}
}

func mustStat(t *testing.T, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
