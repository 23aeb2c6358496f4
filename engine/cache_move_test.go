package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/flow-cwl/flow/internal/digest"
	"github.com/flow-cwl/flow/provenance"
)

// A job whose outputs are all small gives its directory to the cache:
// afterwards the entry holds its files (with their checksums recorded)
// and the job's directory is gone; the run's outputs point into the entry.
func TestSmallOutputsMoveIntoTheCache(t *testing.T) {
	dir := t.TempDir()
	store, err := provenance.OpenShared(filepath.Join(dir, "flow.db"), provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c := &Cache{Dir: filepath.Join(dir, "cache"), Store: store}
	j := &job{name: "echo", outdir: filepath.Join(dir, "work", "1-echo")}
	os.MkdirAll(filepath.Join(j.outdir, "sub"), 0o755)
	os.WriteFile(filepath.Join(j.outdir, "out.txt"), []byte("message 1\n"), 0o644)
	os.WriteFile(filepath.Join(j.outdir, "sub", "more.txt"), []byte("more\n"), 0o644)
	out := map[string]any{"out": fileAt(filepath.Join(j.outdir, "out.txt"))}
	key := "ab" + strings.Repeat("1", 62)
	saved, err := c.save(context.Background(), j, key, out, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(j.outdir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the job's directory is still there (%v): copied, not moved", err)
	}
	f := saved["out"].(map[string]any)
	want := filepath.Join(c.entryDir(key), "out.txt")
	if f["path"] != want || readOutput(t, f) != "message 1\n" {
		t.Errorf("the saved output is %v holding %q, want %s", f["path"], readOutput(t, f), want)
	}
	if sum, _, _ := digest.File(context.Background(), want); f["checksum"] != sum || f["size"] != int64(10) {
		t.Errorf("the saved output says checksum %v size %v, want %s and 10", f["checksum"], f["size"], sum)
	}
	if b, _ := os.ReadFile(filepath.Join(c.entryDir(key), "sub", "more.txt")); string(b) != "more\n" {
		t.Errorf("the entry's sub/more.txt holds %q", b)
	}
	e, err := store.GetCache(context.Background(), key)
	if err != nil || e.Outputs["out"].(map[string]any)["path"] != want {
		t.Fatalf("the index has %+v (%v), want the entry's out.txt", e, err)
	}
}

// A job with a file that is not small (or one that is no output, a FIFO)
// is copied into the cache as before, and keeps its own directory.
func TestOutputsWithABigFileAreCopiedIntoTheCache(t *testing.T) {
	for name, create := range map[string]func(string) error{
		"big file": func(p string) error { return os.WriteFile(p, make([]byte, digest.SmallFile), 0o644) },
		"fifo":     func(p string) error { return syscall.Mkfifo(p, 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			outdir := t.TempDir()
			os.WriteFile(filepath.Join(outdir, "out.txt"), []byte("small\n"), 0o644)
			if err := create(filepath.Join(outdir, "other")); err != nil {
				t.Fatal(err)
			}
			if sums, ok, err := smallOutputs(context.Background(), outdir); ok || err != nil || sums != nil {
				t.Errorf("smallOutputs = %v, %v, %v; want not small, without reading", sums, ok, err)
			}
		})
	}
}

// Moving never replaces an entry that exists, not even an empty one
// (which a plain rename would replace): another flow process may have
// made it a moment ago and be filling it.
func TestMoveNeverReplacesAnEntryInUse(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	entry := c.entryDir("ab" + strings.Repeat("0", 62))
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(t.TempDir(), "job")
	os.Mkdir(mine, 0o755)
	os.WriteFile(filepath.Join(mine, "output"), []byte("mine"), 0o644)
	if err := moveInto(mine, entry); !errors.Is(err, errEntryTaken) {
		t.Fatalf("moveInto an empty entry = %v, want errEntryTaken", err)
	}
	if names, _ := os.ReadDir(entry); len(names) != 0 {
		t.Errorf("the entry in use now holds %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(mine, "output")); string(b) != "mine" {
		t.Errorf("the job's own output is gone: %q", b)
	}
}

// When the entry cannot be recorded (here the index is read-only), the
// job gets its directory back and no entry is left behind.
func TestSaveGivesTheJobItsDirectoryBackWhenTheIndexFails(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "flow.db")
	w, err := provenance.Open(db, provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	ro, err := provenance.Open(db, provenance.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	c := &Cache{Dir: filepath.Join(dir, "cache"), Store: ro}
	j := &job{name: "echo", outdir: filepath.Join(dir, "work", "1-echo")}
	os.MkdirAll(j.outdir, 0o755)
	os.WriteFile(filepath.Join(j.outdir, "out.txt"), []byte("message 1\n"), 0o644)
	out := map[string]any{"out": fileAt(filepath.Join(j.outdir, "out.txt"))}
	key := "cd" + strings.Repeat("2", 62)
	if _, err := c.save(context.Background(), j, key, out, "run1"); err == nil {
		t.Fatal("save recorded an entry in a read-only index")
	}
	if b, _ := os.ReadFile(filepath.Join(j.outdir, "out.txt")); string(b) != "message 1\n" {
		t.Errorf("the job's output holds %q after the failed save", b)
	}
	if _, err := os.Stat(c.entryDir(key)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed save left the entry directory (%v)", err)
	}
}

func fileAt(p string) map[string]any {
	return map[string]any{"class": "File", "path": p, "location": "file://" + p, "basename": filepath.Base(p)}
}
