package digest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// CopyFile makes dst, which must not exist, a copy of the regular file
// src and returns their checksum and size, reading src at most once: a
// copy-on-write clone (FICLONE: btrfs, XFS) when the file system makes
// one, with the checksum from the memo or one read of src; else a copy
// through a buffer that hashes what it writes. Both files' checksums are
// remembered, so neither is read again to be checked. A small file is
// copied through memory instead (copySmall).
func (m *Memo) CopyFile(ctx context.Context, src, dst string) (string, int64, error) {
	in, st, err := openRegular(src)
	if err != nil {
		return "", 0, err
	}
	defer in.Close()
	id, _ := IdentityOf(st)
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm()|0o200)
	if err != nil {
		return "", 0, err
	}
	var sum string
	var n int64
	if id.Size < smallFile {
		sum, n, err = copySmall(ctx, in, out)
	} else {
		sum, n, err = m.fill(ctx, in, out, src, id)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return "", 0, fmt.Errorf("cannot copy %s to %s: %w", src, dst, err)
	}
	if n >= StoredFrom {
		m.Wrote(ctx, dst, sum)
	}
	return sum, n, nil
}

// smallFile is the size below which CopyFile copies through memory, as
// copySmall does.
const smallFile = 64 << 10

// copySmall copies a small file (most of a scatter's outputs are a line
// or two): read into memory to its end, hashed, written with one write.
// It tries no clone, which would save nothing at this size, and leaves
// both files' checksums unremembered, since reading a small file again
// costs less than keeping it.
func copySmall(ctx context.Context, in, out *os.File) (string, int64, error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	buf := smallBuffers.Get().(*[]byte)
	defer smallBuffers.Put(buf)
	b := (*buf)[:0]
	for len(b) < cap(b) {
		k, err := in.Read(b[len(b):cap(b)])
		b = b[:len(b)+k]
		if err == io.EOF {
			sum := sha1.Sum(b)
			if _, err := out.Write(b); err != nil {
				return "", 0, err
			}
			return Prefix + hex.EncodeToString(sum[:]), int64(len(b)), nil
		}
		if err != nil {
			return "", 0, err
		}
	}
	// It grew past smallFile since it was opened: on as for any file.
	return Copy(ctx, out, io.MultiReader(bytes.NewReader(b), in))
}

// smallBuffers holds copySmall's buffers, with room for the read that
// finds the end of a file just under smallFile.
var smallBuffers = sync.Pool{New: func() any { b := make([]byte, 0, smallFile+1); return &b }}

// fill writes src's bytes (open as in, last seen as id) into out.
func (m *Memo) fill(ctx context.Context, in, out *os.File, src string, id Identity) (string, int64, error) {
	if unix.IoctlFileClone(int(out.Fd()), int(in.Fd())) == nil {
		return m.Sum(ctx, src)
	}
	if sum := m.known(ctx, id); sum != "" {
		// Known already: the kernel copies, without the bytes passing
		// through flow (copy_file_range).
		n, err := copyChunks(ctx, out, in)
		return sum, n, err
	}
	if id.Size >= StoredFrom {
		if err := waitPastTick(ctx, id); err != nil {
			return "", 0, err
		}
	}
	if id.Size >= concurrentFrom {
		return m.copyWhileHashing(ctx, in, out, src, id)
	}
	began := time.Now()
	sum, n, err := Copy(ctx, out, in)
	if err != nil {
		return "", 0, err
	}
	if after, err := in.Stat(); err == nil {
		if aid, ok := IdentityOf(after); ok && aid == id && settled(id, began) {
			m.remember(ctx, id, sum)
		}
	}
	return sum, n, nil
}

// copyChunk is how much copyChunks copies between checks of its context.
const copyChunk = 64 << 20

// copyChunks copies in to out in the kernel where it can
// (copy_file_range, which io.CopyN reaches through os.File.ReadFrom),
// checking ctx between chunks.
func copyChunks(ctx context.Context, out, in *os.File) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := io.CopyN(out, in, copyChunk)
		total += n
		if err == io.EOF {
			return total, nil
		}
		if err != nil || n < copyChunk {
			return total, err
		}
	}
}

// concurrentFrom is the least size of a file that copyWhileHashing copies:
// below it, a second reader costs more than it saves.
const concurrentFrom = 16 << 20

// copyWhileHashing copies a big file in the kernel (copy_file_range)
// while a second reader hashes it through a descriptor of its own, so
// that on a machine with two cores the copy costs no time beside the
// hash. The two read the same bytes only if src did not change between
// them, which its identity, unchanged from before the copy (taken more
// than a tick before it began) to after both, shows; else the copy is an
// error rather than a file whose checksum may be another's.
func (m *Memo) copyWhileHashing(ctx context.Context, in, out *os.File, src string, id Identity) (string, int64, error) {
	var n int64
	var copyErr error
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		n, copyErr = copyChunks(ctx, out, in)
	}()
	sum, hashed, err := m.Sum(ctx, src)
	<-copied
	if err == nil {
		err = copyErr
	}
	if err != nil {
		return "", 0, err
	}
	st, err := in.Stat()
	if err != nil {
		return "", 0, err
	}
	if now, ok := IdentityOf(st); !ok || now != id || n != hashed {
		return "", 0, fmt.Errorf("%s changed while it was copied", src)
	}
	return sum, n, nil
}
