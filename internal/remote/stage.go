package remote

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flow-cwl/flow/internal/shell"
)

// sha1ArgBytes bounds the arguments of one sha1sum command line, well under
// Linux's limits, so that any number of paths fits in one remote call.
const sha1ArgBytes = 64 << 10

// SHA1 checksums remote files with one remote command and returns their
// checksums in CWL's form, "sha1$" followed by hex, keyed by path. Any file
// that cannot be read fails the whole call.
func (c *Client) SHA1(ctx context.Context, paths []string) (map[string]string, error) {
	if len(paths) == 0 {
		return map[string]string{}, nil
	}
	out, err := c.Run(ctx, sha1Script(paths))
	if err != nil {
		return nil, fmt.Errorf("cannot checksum %d files on %s: %w", len(paths), c.addr, err)
	}
	return parseSHA1(out, paths)
}

// sha1Script runs sha1sum over the paths in batches; set -e stops at the
// first batch with an unreadable file.
func sha1Script(paths []string) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	line := 0
	for _, p := range paths {
		if line == 0 {
			b.WriteString("sha1sum --")
		}
		q := shell.Quote(p)
		b.WriteString(" " + q)
		line += len(q) + 1
		if line > sha1ArgBytes {
			b.WriteString("\n")
			line = 0
		}
	}
	if line > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// parseSHA1 pairs sha1sum's lines with the paths in order. Names are not
// parsed: sha1sum escapes odd ones (and marks the line with a leading
// backslash), while the order of lines is the order of arguments.
func parseSHA1(out []byte, paths []string) (map[string]string, error) {
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(paths) {
		return nil, fmt.Errorf("sha1sum printed %d lines for %d files", len(lines), len(paths))
	}
	sums := make(map[string]string, len(paths))
	for i, ln := range lines {
		ln = strings.TrimPrefix(ln, `\`)
		if len(ln) < 40 {
			return nil, fmt.Errorf("sha1sum printed an unexpected line %q", ln)
		}
		if _, err := hex.DecodeString(ln[:40]); err != nil {
			return nil, fmt.Errorf("sha1sum printed an unexpected line %q", ln)
		}
		sums[paths[i]] = "sha1$" + ln[:40]
	}
	return sums, nil
}

// StageFile makes the local file available on the cluster under
// remoteRoot/sha1/ab/<sha1>/<basename>, where ab are the first two hex
// digits, and returns that path. Content already there (same path, same
// size) is not uploaded again, and concurrent calls for the same content
// share one upload.
func (c *Client) StageFile(ctx context.Context, local, remoteRoot string) (string, error) {
	fi, err := os.Stat(local)
	if err != nil {
		return "", fmt.Errorf("cannot stage %s: %w", local, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("cannot stage %s: not a regular file", local)
	}
	sum, err := c.hashes.sum(ctx, local, fi)
	if err != nil {
		return "", fmt.Errorf("cannot stage %s: %w", local, err)
	}
	remote := path.Join(remoteRoot, "sha1", sum[:2], sum, filepath.Base(local))
	err = c.flights.do(ctx, remote, func() error {
		if rfi, err := c.Stat(ctx, remote); err == nil && rfi.Size() == fi.Size() {
			return nil
		}
		return c.Upload(ctx, local, remote)
	})
	if err != nil {
		return "", fmt.Errorf("cannot stage %s: %w", local, err)
	}
	return remote, nil
}

// hashCache remembers local checksums by path, size and modification time,
// so that a file staged by every step of a workflow is read once.
type hashCache struct {
	newHash func() hash.Hash // nil: SHA-1
	mu      sync.Mutex
	sums    map[string]hashEntry
}

type hashEntry struct {
	size  int64
	mtime time.Time
	sum   string
}

func (h *hashCache) sum(ctx context.Context, file string, fi os.FileInfo) (string, error) {
	h.mu.Lock()
	e, ok := h.sums[file]
	h.mu.Unlock()
	if ok && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
		return e.sum, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	hh := sha1.New()
	if h.newHash != nil {
		hh = h.newHash()
	}
	if _, err := io.Copy(hh, &ctxReader{ctx, f}); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(hh.Sum(nil))
	h.mu.Lock()
	if h.sums == nil {
		h.sums = map[string]hashEntry{}
	}
	h.sums[file] = hashEntry{size: fi.Size(), mtime: fi.ModTime(), sum: sum}
	h.mu.Unlock()
	return sum, nil
}

// flightGroup runs one fn per key at a time and hands its result to every
// caller that asked meanwhile (a small singleflight).
type flightGroup struct {
	mu    sync.Mutex
	calls map[string]*flight
}

type flight struct {
	done chan struct{}
	err  error
}

// do runs fn for key unless a call for key is already running, in which
// case it waits for that call's result. If the running call was ended by
// its own caller's ctx, a waiter whose ctx is still live tries itself.
func (g *flightGroup) do(ctx context.Context, key string, fn func() error) error {
	for {
		g.mu.Lock()
		if g.calls == nil {
			g.calls = map[string]*flight{}
		}
		if f, ok := g.calls[key]; ok {
			g.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if isCtxErr(f.err) && ctx.Err() == nil {
				continue
			}
			return f.err
		}
		f := &flight{done: make(chan struct{})}
		g.calls[key] = f
		g.mu.Unlock()

		f.err = fn()
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(f.done)
		return f.err
	}
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
