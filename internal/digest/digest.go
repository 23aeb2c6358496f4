// Package digest computes the checksums CWL gives files ("sha1$<hex>"),
// and remembers them so that each content is read at most once.
//
// File and Reader hash bytes: they stream through a large buffer (the
// SHA-1 of Go's library uses the processor's SHA instructions where it
// has them) and stop at the first buffer after their context ends, since
// a file of tens of gigabytes takes minutes to read. Every part of flow
// that needs a file's checksum (the step cache's keys and checks, output
// collection, provenance, the RO-Crate) goes through them.
//
// A Memo remembers the checksum of a file by its identity, as git's index
// and restic's scanner do: device, inode, size, and modification and
// change times in nanoseconds. Any write to a file changes its change
// time (ctime), which no user call can set back, so a file whose contents
// changed while its size and modification time were restored still has a
// new identity, and is hashed again. A Memo may keep what it learns in a
// Store (the step cache's index), so that a later run over the same files
// reads none of their bytes.
package digest

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
)

// Prefix is how CWL writes a SHA-1 checksum: "sha1$<hex>".
const Prefix = "sha1$"

// Hex strips the "sha1$" from a CWL checksum.
func Hex(sum string) string { return strings.TrimPrefix(sum, Prefix) }

// bufSize is the read size: large enough that a big file costs few
// system calls, small enough that many files hashed at once cost little.
const bufSize = 1 << 20

// buffers holds the buffers File and Reader read through: a run may hash
// a hundred thousand small files.
var buffers = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// File returns the checksum and size of the regular file at path. It
// refuses anything else (a FIFO would otherwise be read for ever).
func File(ctx context.Context, path string) (string, int64, error) {
	f, _, err := openRegular(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	sum, n, err := Reader(ctx, f)
	if err != nil {
		return "", 0, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return sum, n, nil
}

// openRegular opens path for reading, if it is a regular file. O_NONBLOCK:
// opening a FIFO for reading would otherwise wait for a writer, for ever;
// a regular file reads the same either way.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %s, not a regular file", path, Kind(st.Mode()))
	}
	return f, st, nil
}

// Reader hashes r to its end, checking ctx before every read.
func Reader(ctx context.Context, r io.Reader) (string, int64, error) {
	return Copy(ctx, io.Discard, r)
}

// Copy copies r to w and returns the checksum and number of the bytes
// copied, reading them once: what a copy into place needs to hash what it
// wrote without a second pass.
func Copy(ctx context.Context, w io.Writer, r io.Reader) (string, int64, error) {
	h := sha1.New()
	buf := buffers.Get().(*[]byte)
	defer buffers.Put(buf)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return "", n, err
		}
		k, rerr := r.Read(*buf)
		if k > 0 {
			h.Write((*buf)[:k])
			if w != io.Discard {
				if _, err := w.Write((*buf)[:k]); err != nil {
					return "", n, err
				}
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			return format(h), n, nil
		}
		if rerr != nil {
			return "", n, rerr
		}
	}
}

func format(h hash.Hash) string { return Prefix + hex.EncodeToString(h.Sum(nil)) }

// Kind names a mode that is not a regular file's, for messages.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}
