package digest

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
)

// Small files (most of a scatter's outputs) are copied through memory:
// the copy holds the same bytes and mode, and the checksum and size
// CopyFile reports are the file's, at every size around the boundary
// where the ordinary copy takes over.
func TestCopyFileOfSmallFiles(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 10, smallFile - 1, smallFile, smallFile + 1} {
		data := make([]byte, size)
		rand.Read(data)
		src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
		os.Remove(src)
		os.Remove(dst)
		if err := os.WriteFile(src, data, 0o640); err != nil {
			t.Fatal(err)
		}
		var m Memo
		sum, n, err := m.CopyFile(context.Background(), src, dst)
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		want, _, _ := File(context.Background(), src)
		got, _ := os.ReadFile(dst)
		if sum != want || n != int64(size) || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: CopyFile = %s, %d and a copy of %d bytes; want %s, %d and the same bytes", size, sum, n, len(got), want, size)
		}
		if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != 0o640|0o200 {
			t.Errorf("%d bytes: the copy's mode is %v (%v), want %v", size, st.Mode().Perm(), err, os.FileMode(0o640|0o200))
		}
	}
}
