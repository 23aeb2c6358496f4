package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A cancelled copy stops before its next chunk and says why.
func TestCloneStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := cloneTree(ctx, src, filepath.Join(dir, "dst")); !errors.Is(err, context.Canceled) {
		t.Errorf("copying with a cancelled context returned %v, want context.Canceled", err)
	}
}

// loops makes a tree with two symlink loops and a link out of it:
// root/a/up -> root, root/a/b/again -> a, root/out -> outside.
func loops(t *testing.T) (root, outside string) {
	dir := t.TempDir()
	root, outside = filepath.Join(dir, "root"), filepath.Join(dir, "outside")
	for _, d := range []string{filepath.Join(root, "a", "b"), filepath.Join(outside, "deep")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(root, "a", "b", "f.txt"), filepath.Join(outside, "deep", "secret.txt")} {
		if err := os.WriteFile(f, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		filepath.Join(root, "a", "up"):         root,
		filepath.Join(root, "a", "b", "again"): filepath.Join(root, "a"),
		filepath.Join(root, "out"):             outside,
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

// paths lists every path in a listing, depth first.
func paths(l []any) []string {
	var out []string
	for _, it := range l {
		m := it.(map[string]any)
		out = append(out, localPath(m))
		if sub, ok := m["listing"].([]any); ok {
			out = append(out, paths(sub)...)
		}
	}
	return out
}

// A deep listing lists each symlink once and descends neither round a
// loop nor out of the listed tree.
func TestDeepListingStopsAtLoopsAndTheTreesEdge(t *testing.T) {
	root, _ := loops(t)
	l, err := listDir(context.Background(), root, true)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(paths(l), " ")
	var want []string
	for _, p := range []string{"a", "a/b", "a/b/again", "a/b/f.txt", "a/up", "out"} {
		want = append(want, filepath.Join(root, p))
	}
	if got != strings.Join(want, " ") {
		t.Errorf("deep listing:\n got %s\nwant %s", got, strings.Join(want, " "))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := listDir(ctx, root, true); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled listing returned %v, want context.Canceled", err)
	}
}

// Copying a tree with a symlink loop is an error naming the loop, not a
// copy without end.
func TestCopyRefusesASymlinkLoop(t *testing.T) {
	root, _ := loops(t)
	err := cloneTree(context.Background(), root, filepath.Join(t.TempDir(), "copy"))
	if err == nil || !strings.Contains(err.Error(), "symlink loop") {
		t.Errorf("copying a tree with a symlink loop returned %v, want an error naming the loop", err)
	}
}

// Copying a FIFO is an error at once, not a wait for a writer.
func TestCloneRefusesAFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	err := cloneTree(context.Background(), fifo, filepath.Join(dir, "copy"))
	if err == nil || !strings.Contains(err.Error(), "FIFO") {
		t.Errorf("copying a FIFO returned %v, want an error naming it a FIFO", err)
	}
	if _, _, err := checksumFile(context.Background(), fifo); err == nil || !strings.Contains(err.Error(), "FIFO") {
		t.Errorf("hashing a FIFO returned %v, want an error naming it a FIFO", err)
	}
}
