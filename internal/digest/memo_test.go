package digest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/digest"
	"github.com/flow-cwl/flow/provenance"
)

// settle waits until a file written now is older than any clock tick, so
// that a Memo may remember its checksum.
func settle() { time.Sleep(50 * time.Millisecond) }

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A writer that changes a file's bytes and then puts its size and
// modification time back cannot make the memo answer with the old
// checksum: the change time moved.
func TestMemoNoticesAChangeBehindRestoredSizeAndMtime(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "reads.fastq")
	write(t, path, []byte("ACGT ACGT ACGT\n"))
	settle()
	var m digest.Memo
	first, _, err := m.Sum(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Known(ctx, path) != first {
		t.Fatalf("the memo did not remember the checksum of a settled file")
	}
	old, _ := os.Stat(path)

	write(t, path, []byte("TTTT ACGT ACGT\n")) // same size
	if err := os.Chtimes(path, old.ModTime(), old.ModTime()); err != nil {
		t.Fatal(err)
	}
	now, _ := os.Stat(path)
	if now.Size() != old.Size() || !now.ModTime().Equal(old.ModTime()) {
		t.Fatalf("the test did not restore size and mtime: %d %v, was %d %v", now.Size(), now.ModTime(), old.Size(), old.ModTime())
	}
	if m.Known(ctx, path) != "" {
		t.Errorf("the memo still knows a checksum for the changed file")
	}
	got, _, err := m.Sum(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := digest.File(ctx, path)
	if got == first || got != want {
		t.Errorf("after the change the memo answered %s; the file's checksum is %s (before: %s)", got, want, first)
	}
}

// A file whose last change is not clearly in the past is hashed but not
// remembered: a second write in the same clock tick would leave its times
// as they are. (A modification time set ahead stands for a change made
// this very tick, which a test cannot time reliably.)
func TestMemoDoesNotRememberARacyFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fresh")
	write(t, path, []byte("just written"))
	ahead := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, ahead, ahead); err != nil {
		t.Fatal(err)
	}
	var m digest.Memo
	sum, _, err := m.Sum(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if k := m.Known(ctx, path); k != "" {
		t.Errorf("the memo remembered %s for a file changed in the current tick", k)
	}
	if want, _, _ := digest.File(ctx, path); sum != want {
		t.Errorf("Sum = %s, want %s", sum, want)
	}
}

// What one memo learns about a big file, the next (another run) finds in
// the database without reading the file.
func TestMemoKeepsBigFilesInTheDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := provenance.OpenShared(filepath.Join(dir, "flow.db"), provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	big, small := filepath.Join(dir, "big"), filepath.Join(dir, "small")
	data := make([]byte, digest.StoredFrom+1)
	rand.Read(data)
	write(t, big, data)
	write(t, small, data[:100])
	settle()
	first := &digest.Memo{Store: db}
	want, _, err := first.Sum(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := first.Sum(ctx, small); err != nil {
		t.Fatal(err)
	}
	second := &digest.Memo{Store: db}
	if got := second.Known(ctx, big); got != want {
		t.Errorf("a new memo over the same database knows %q for the big file, want %s", got, want)
	}
	if got := second.Known(ctx, small); got != "" {
		t.Errorf("a small file's checksum was kept in the database: %s", got)
	}
	// Changed in place, same size: the stored checksum no longer applies.
	data[0] ^= 0xff
	f, err := os.OpenFile(big, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(data[:1], 0)
	f.Close()
	third := &digest.Memo{Store: db}
	got, _, err := third.Sum(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	if got == want {
		t.Errorf("the database answered the old checksum for a changed file")
	}
}

// Hashing stops when its context ends, and refuses what is not a regular
// file instead of waiting on it.
func TestFileStopsOnCancelAndRefusesFIFOs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	write(t, path, bytes.Repeat([]byte("x"), 3<<20))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := digest.File(ctx, path); !errors.Is(err, context.Canceled) {
		t.Errorf("hashing with a cancelled context returned %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var m digest.Memo
	if _, _, err := m.Sum(context.Background(), fifo); err == nil || !strings.Contains(err.Error(), "FIFO") {
		t.Errorf("hashing a FIFO returned %v, want an error naming it a FIFO", err)
	}
}

// Copy writes what it hashes: the copy and its checksum agree with the
// source, read once.
func TestCopyHashesWhatItWrites(t *testing.T) {
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	var out bytes.Buffer
	sum, n, err := digest.Copy(context.Background(), &out, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := digest.Reader(context.Background(), bytes.NewReader(data))
	if n != int64(len(data)) || !bytes.Equal(out.Bytes(), data) || sum != want {
		t.Errorf("Copy: %d bytes, equal %v, sum %s; want %d, %s", n, bytes.Equal(out.Bytes(), data), sum, len(data), want)
	}
}

// endless gives zeros for ever and cancels its context after a number
// of reads: hashing it ends only if the context is checked per buffer.
type endless struct {
	reads, cancelAfter int
	cancel             context.CancelFunc
}

func (r *endless) Read(p []byte) (int, error) {
	r.reads++
	if r.reads == r.cancelAfter {
		r.cancel()
	}
	clear(p)
	return len(p), nil
}

func TestReaderStopsAtTheBufferAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &endless{cancelAfter: 3, cancel: cancel}
	_, _, err := digest.Reader(ctx, r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("hashing an endless reader returned %v, want context.Canceled", err)
	}
	if r.reads != 3 {
		t.Errorf("the reader was read %d times, want 3: no read after the cancel", r.reads)
	}
}

// CopyFile hashes what it copies, and neither file needs reading again:
// the memo knows both. It never writes over an existing file.
// At 2 MiB the copy passes through flow's buffer; at 20 MiB the kernel
// copies while a second reader hashes.
func TestCopyFileRemembersBothFiles(t *testing.T) {
	for _, size := range []int{2 << 20, 20 << 20} {
		t.Run(fmt.Sprint(size>>20, "MiB"), func(t *testing.T) { copyFileRemembersBothFiles(t, size) })
	}
}

func copyFileRemembersBothFiles(t *testing.T, size int) {
	ctx := context.Background()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	data := make([]byte, size)
	rand.Read(data)
	write(t, src, data)
	settle()
	var m digest.Memo
	sum, n, err := m.CopyFile(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := digest.File(ctx, src)
	got, _ := os.ReadFile(dst)
	if sum != want || n != int64(len(data)) || !bytes.Equal(got, data) {
		t.Fatalf("CopyFile: %s %d bytes (equal: %v), want %s %d", sum, n, bytes.Equal(got, data), want, len(data))
	}
	if m.Known(ctx, src) != want || m.Known(ctx, dst) != want {
		t.Errorf("after the copy the memo knows %q for the source and %q for the copy, want %s", m.Known(ctx, src), m.Known(ctx, dst), want)
	}
	if _, _, err := m.CopyFile(ctx, src, dst); err == nil {
		t.Errorf("a second copy onto the same name succeeded")
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Errorf("the refused copy changed the existing file")
	}
}

// A file moved by Rename keeps its remembered checksum (a rename changes
// only its change time); a file changed after the move, its size and
// modification time put back, is not served the old checksum.
func TestRenameCarriesTheChecksumButNotPastAWrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, moved := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	write(t, old, bytes.Repeat([]byte("x"), digest.StoredFrom))
	settle()
	var m digest.Memo
	sum, _, err := m.Sum(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Rename(ctx, old, moved); err != nil {
		t.Fatal(err)
	}
	if got := m.Known(ctx, moved); got != sum {
		t.Fatalf("after the rename the memo knows %q, want %q", got, sum)
	}
	st, _ := os.Stat(moved)
	settle() // a write within the tick of the rename cannot be told from it
	f, err := os.OpenFile(moved, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("y"), 10)
	f.Close()
	if err := os.Chtimes(moved, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if got := m.Known(ctx, moved); got != "" {
		t.Errorf("the memo still serves %q for a changed file", got)
	}
	var fresh digest.Memo
	write(t, old, []byte("unknown"))
	if err := fresh.Rename(ctx, old, moved); err != nil {
		t.Fatal(err)
	}
	if got := fresh.Known(ctx, moved); got != "" {
		t.Errorf("a file the memo never hashed is known after a rename: %q", got)
	}
}
