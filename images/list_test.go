package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListDescribesEveryImage(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Puller: forbiddenPuller{t}}
	used, unused := Ref{Pull: "debian:12"}, Ref{Pull: "quay.io/biocontainers/samtools:1.9"}
	usedDigest := writeSIF(t, c.Path(used), sifSpec{})
	unusedDigest := writeSIF(t, c.Path(unused), sifSpec{arch: "arm64"})
	pulled := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	for _, r := range []Ref{used, unused} {
		if err := os.Chtimes(c.Path(r), pulled, pulled); err != nil {
			t.Fatal(err)
		}
	}
	broken := filepath.Join(c.Dir, "broken.img")
	for name, data := range map[string]string{
		"broken.img":                  "an ext3 image from Singularity 2",
		"notes.txt":                   "not an image",
		".debian:13.sif.tmp-42":       "a pull in progress",
		"debian:13.sif.lock":          "",
		tempPrefix("x.sif") + "1.sif": "a pull in progress, oddly named",
		"old.sif" + usedSuffix:        "",
		"sub.sif.bak":                 "",
	} {
		if err := os.WriteFile(filepath.Join(c.Dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().Add(-time.Second)
	if _, err := c.Ensure(t.Context(), used); err != nil {
		t.Fatal(err)
	}

	entries, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if strings.Join(names, " ") != "broken.img debian:12.sif quay.io_biocontainers_samtools:1.9.sif" {
		t.Fatalf("List names %q", names)
	}
	b, u, n := entries[0], entries[1], entries[2]
	if b.Err == nil || !strings.Contains(b.Err.Error(), broken+" is not a SIF image") || b.Digest != digestOf([]byte("an ext3 image from Singularity 2")) {
		t.Errorf("broken image entry %+v", b)
	}
	if u.Err != nil || u.Digest != usedDigest || u.Path != c.Path(used) || u.LastUsed.Before(start) {
		t.Errorf("used image entry %+v; want digest %s, last used after %v", u, usedDigest, start)
	}
	st, _ := os.Stat(c.Path(unused))
	if n.Err != nil || n.Digest != unusedDigest || n.Size != st.Size() || !n.LastUsed.Equal(pulled) {
		t.Errorf("unused image entry %+v; want digest %s, size %d, last used %v (when pulled)", n, unusedDigest, st.Size(), pulled)
	}
}

func TestListOfMissingCacheIsEmpty(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "never-created")}
	if entries, err := c.List(); err != nil || len(entries) != 0 {
		t.Errorf("List = %v, %v; want nothing", entries, err)
	}
}

func TestListNoticesReplacedImage(t *testing.T) {
	// List remembers digests; a file replaced in place must be re-read.
	c := &Cache{Dir: t.TempDir()}
	path := filepath.Join(c.Dir, "x.sif")
	writeSIF(t, path, sifSpec{})
	if _, err := c.List(); err != nil {
		t.Fatal(err)
	}
	want := writeSIF(t, path, sifSpec{rootfs: []byte("a different root file system!")})
	later := time.Now().Add(time.Hour)
	os.Chtimes(path, later, later)
	entries, err := c.List()
	if err != nil || len(entries) != 1 || entries[0].Digest != want {
		t.Errorf("List after replacing the image = %+v, %v; want digest %s", entries, err, want)
	}
}
