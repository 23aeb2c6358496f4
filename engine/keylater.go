package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// jobKey is the cache key a job's outputs are saved under: known before
// the job starts, or, for a job started before its inputs were hashed,
// learnt while it runs.
type jobKey struct {
	ready chan struct{} // closed once key or err is set
	key   string
	err   error
}

func knownKey(key string) *jobKey {
	k := &jobKey{ready: make(chan struct{}), key: key}
	close(k.ready)
	return k
}

// keyLater starts computing the key of kp, scoped by scope, and returns
// it at once. The hashing goes on with the run's context: the memo keeps
// what it learns for provenance and later runs even if the job fails.
func (c *Cache) keyLater(ctx context.Context, kp *keyPlan, scope func(string) string) *jobKey {
	k := &jobKey{ready: make(chan struct{})}
	go func() {
		defer close(k.ready)
		key, err := c.key(ctx, kp)
		if err != nil {
			k.err = &keyError{err}
			return
		}
		k.key = scope(key)
	}()
	return k
}

// known returns the key if it is known already.
func (k *jobKey) known() (string, bool) {
	select {
	case <-k.ready:
		return k.key, k.err == nil
	default:
		return "", false
	}
}

// wait returns the key once it is known.
func (k *jobKey) wait(ctx context.Context) (string, error) {
	select {
	case <-k.ready:
		return k.key, k.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// keyError says a job's cache key could not be computed: its outputs are
// then not cached, and the job stands.
type keyError struct{ err error }

func (e *keyError) Error() string { return "cannot compute the cache key: " + e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// incoming is where outputs wait for their key, under the cache's own
// directory so that one rename puts them in place.
func (c *Cache) incoming() string { return filepath.Join(c.Dir, ".incoming") }

// keepEarly keeps a finished job's outputs while its key may still be
// being computed (its inputs hashed): the copies, each hashed as it is
// made, go into a directory of their own, which becomes the entry's
// directory once the key is known. Copying the outputs thus overlaps
// reading the inputs. An entry directory that exists is another job's
// (errEntryTaken), as in keep.
func (c *Cache) keepEarly(ctx context.Context, outdir string, k *jobKey) (key, dir string, sums map[string]sized, err error) {
	if err := os.MkdirAll(c.incoming(), 0o755); err != nil {
		return "", "", nil, err
	}
	tmp, err := os.MkdirTemp(c.incoming(), incomingPrefix())
	if err != nil {
		return "", "", nil, err
	}
	sums = map[string]sized{}
	if err := c.keepTree(ctx, outdir, tmp, sums); err != nil {
		_ = removeAll(tmp)
		return "", "", nil, fmt.Errorf("cannot keep the outputs in the cache: %w", err)
	}
	if key, err = k.wait(ctx); err != nil {
		_ = removeAll(tmp)
		return "", "", nil, err
	}
	dir = c.entryDir(key)
	if err := c.claim(tmp, dir); err != nil {
		_ = removeAll(tmp)
		return "", "", nil, err
	}
	return key, dir, sums, nil
}

// incomingPrefix begins the name of a directory in incoming with who
// makes it, so that a later flow can tell which were left by a flow that
// was killed.
func incomingPrefix() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%d-", strings.ReplaceAll(host, "-", "_"), os.Getpid())
}

// sweepIncoming removes what flow processes on this host that are gone
// (killed while they kept outputs) left in incoming. Those of other hosts
// sharing the cache directory are left to them.
func (c *Cache) sweepIncoming() {
	host, _ := os.Hostname()
	ents, _ := os.ReadDir(c.incoming())
	for _, e := range ents {
		who, _, _ := strings.Cut(e.Name(), "-")
		h, pid, ok := strings.Cut(who, "@")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || h != strings.ReplaceAll(host, "-", "_") || n == os.Getpid() {
			continue
		}
		if unix.Kill(n, 0) == unix.ESRCH {
			_ = removeAll(filepath.Join(c.incoming(), e.Name()))
		}
	}
}

// claim makes the directory tmp the entry directory dir: made empty
// first, which claims it as keep does (another job's claim fails there,
// and this one fails on another's), then replaced by tmp in one rename.
func (c *Cache) claim(tmp, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return errEntryTaken
		}
		return err
	}
	// rename(2) itself, which replaces an empty directory (os.Rename
	// refuses to).
	if err := unix.Rename(tmp, dir); err != nil {
		_ = os.Remove(dir)
		return err
	}
	return nil
}
