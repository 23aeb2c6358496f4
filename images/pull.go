package images

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// lockSuffix names the lock file of an image: "<image file>.lock". Lock
// files stay in the cache: removing one while another process waits on
// it would let a third process lock a new file and pull at the same time.
const lockSuffix = ".lock"

// pull fetches a missing image under its lock. Whoever gets the lock
// first pulls; everyone who waited finds the image in place and uses it.
func (c *Cache) pull(ctx context.Context, r Ref) (Image, error) {
	final := c.Path(r)
	if err := os.MkdirAll(c.dir(), 0o777); err != nil {
		return Image{}, c.notPulled(r, err)
	}
	done, err := c.turn(ctx, final)
	if err != nil {
		return Image{}, fmt.Errorf("gave up waiting for the pull of image %q into %s: %w", r.String(), c.dir(), err)
	}
	defer done()
	unlock, err := lock(ctx, final+lockSuffix)
	locked := err == nil
	switch {
	case locked:
		defer unlock()
	case ctx.Err() != nil:
		return Image{}, fmt.Errorf("gave up waiting for the pull of image %q into %s: %w", r.String(), c.dir(), ctx.Err())
	case lockUnsupported(err):
		// Lustre mounted without flock, say. The rename still keeps
		// images whole; only the pull may happen more than once.
		c.Log.Warn().Err(err).Str("cache", c.dir()).Msg("the cache's file system cannot lock; pulling without a lock")
	default:
		return Image{}, c.notPulled(r, fmt.Errorf("cannot lock it for pulling: %w", err))
	}

	// Another goroutine or process may have pulled it while we waited.
	if p, ok := c.Lookup(r); ok {
		return c.use(r, p)
	}
	if locked { // without the lock, other pulls' files may be live
		c.removeStale(final)
	}
	start := time.Now()
	c.Log.Info().Str("image", r.String()).Str("uri", r.PullURI()).Str("cache", c.dir()).Msg("pulling image")
	img, err := c.pullInto(ctx, r, final)
	if err != nil {
		return Image{}, err
	}
	c.Log.Info().Str("image", r.String()).Str("digest", img.Digest).Dur("took", time.Since(start)).Msg("pulled image")
	c.touch(final)
	return img, nil
}

// turn waits until no other goroutine using c is pulling into final, so
// a scatter of a thousand jobs on one missing image parks its goroutines
// here rather than a thousand threads in flock.
func (c *Cache) turn(ctx context.Context, final string) (done func(), err error) {
	c.mu.Lock()
	if c.pulling == nil {
		c.pulling = map[string]chan struct{}{}
	}
	ch, ok := c.pulling[final]
	if !ok {
		ch = make(chan struct{}, 1)
		c.pulling[final] = ch
	}
	c.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pullInto pulls r into a temporary file next to final, validates it and
// renames it into place, so final only ever names a complete image: a
// failed, cancelled or killed pull leaves at most a temporary file,
// which the next pull of the image removes.
func (c *Cache) pullInto(ctx context.Context, r Ref, final string) (Image, error) {
	tmpPath, err := createTemp(c.dir(), tempPrefix(final))
	if err != nil {
		return Image{}, c.notPulled(r, err)
	}
	defer os.Remove(tmpPath) // fails harmlessly once renamed

	err = c.Puller.Pull(ctx, r.PullURI(), tmpPath)
	if ctx.Err() != nil {
		return Image{}, fmt.Errorf("pull of image %q into %s was cancelled: %w", r.String(), c.dir(), ctx.Err())
	}
	if err != nil {
		return Image{}, c.notPulled(r, err)
	}
	img, err := Inspect(tmpPath)
	if err != nil {
		return Image{}, c.notPulled(r, fmt.Errorf("the pulled file is not usable: %w", err))
	}
	if err := os.Rename(tmpPath, final); err != nil {
		return Image{}, c.notPulled(r, err)
	}
	// Rename keeps size and mtime, so the memo stays valid for final.
	img.Path, img.Name = final, r.String()
	if st, err := os.Stat(final); err == nil {
		c.remember(final, st, img)
	}
	return img, nil
}

// createTemp creates an empty file named prefix plus random hex in dir.
// Unlike os.CreateTemp (mode 0600) it lets the umask decide who may read
// it, because the file becomes the image, and a cache shared by a group
// must stay readable by the group.
func createTemp(dir, prefix string) (string, error) {
	for {
		var b [8]byte
		rand.Read(b[:])
		p := filepath.Join(dir, prefix+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return p, f.Close()
	}
}

// tempPrefix is the hidden name prefix of pulls in progress for final.
func tempPrefix(final string) string {
	return "." + filepath.Base(final) + ".tmp-"
}

// removeStale deletes temporary files that earlier pulls of this image
// left behind when their process died. Only a holder of the image's lock
// writes them, and we hold it, so none of them is in use.
func (c *Cache) removeStale(final string) {
	entries, err := os.ReadDir(c.dir())
	if err != nil {
		return
	}
	prefix := tempPrefix(final)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			p := filepath.Join(c.dir(), e.Name())
			if err := os.Remove(p); err != nil {
				c.Log.Debug().Err(err).Str("file", p).Msg("cannot remove a stale partial pull")
			}
		}
	}
}
