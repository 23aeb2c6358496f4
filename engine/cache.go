package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/internal/digest"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/schema"
)

// Cache reuses the outputs of CommandLineTool jobs that already ran with
// the same tool, requirements, environment and input contents.
//
// A job's key (see keyPlan) hashes: the tool (its model, without source
// positions), the requirements in effect (but not those that cannot
// change results: resources, time limit, reuse), the input object with
// every file replaced by its name, size and SHA-1 and every directory by
// its listing, and PATH. A finished job's output directory
// is copied into Dir under its key (cloned where the file system can),
// every file hashed as it is copied; the job keeps its own files for the
// run. On a hit the outputs are used from the cache after checking that
// every file still has the checksum it had: the checksum memo answers for
// every file whose identity has not changed, without reading it.
//
// A tool with WorkReuse {enableReuse: false} is never reused across runs,
// but its entry is kept under a key scoped to the run, so that resuming
// that run does not repeat it.
type Cache struct {
	Dir   string
	Store provenance.Store

	memo     digest.Memo // checksums by file identity, kept in Store's database
	memoOnce sync.Once
	tools    sync.Map // *schema.Process → tool digest

	mu   sync.Mutex
	busy map[string]chan struct{} // keys of jobs running now, closed when done

	sweepOnce     sync.Once         // incoming cleared of what killed flows left
	testBeforeSum func(path string) // tests: called before a file's checksum is asked for
}

// hold waits until no other job of this process runs with key, then marks
// key as running until release is called. Identical jobs of one run thus
// run once: the next finds the first's outputs in the cache. (Two jobs
// with one key at once would also share the key's cache directory.)
func (c *Cache) hold(ctx context.Context, key string) (release func(), err error) {
	for {
		release, wait := c.tryHold(key)
		if release != nil {
			return release, nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// tryHold marks key as running, if no job holds it, and returns how to
// release it; else it returns what closes when the holder releases it.
func (c *Cache) tryHold(key string) (release func(), held <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy == nil {
		c.busy = map[string]chan struct{}{}
	}
	if wait, taken := c.busy[key]; taken {
		return nil, wait
	}
	done := make(chan struct{})
	c.busy[key] = done
	return func() {
		c.mu.Lock()
		delete(c.busy, key)
		c.mu.Unlock()
		close(done)
	}, nil
}

// await waits until no job holds key.
func (c *Cache) await(ctx context.Context, key string) error {
	release, err := c.hold(ctx, key)
	if err == nil {
		release()
	}
	return err
}

// notCached lists requirement classes that cannot change a job's outputs.
var notCached = map[string]bool{"ResourceRequirement": true, "ToolTimeLimit": true, "WorkReuse": true}

// sha1Of returns the "sha1$..." checksum of a file, reading it only when
// the memo knows no checksum for the file as it is now (its identity):
// once per content in this run, and for big files once across runs that
// share the cache's index.
func (c *Cache) sha1Of(ctx context.Context, path string) (string, int64, error) {
	if c.testBeforeSum != nil {
		c.testBeforeSum(path)
	}
	return c.memoOf().Sum(ctx, path)
}

func (c *Cache) toolDigest(p *schema.Process) (string, error) {
	if d, ok := c.tools.Load(p); ok {
		return d.(string), nil
	}
	doc, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("cannot digest the tool: %w", err)
	}
	// Ids and named types are URIs of the document: leave out where the
	// document is, so that moving a project does not lose its cache.
	if dir := documentDir(p.ID); dir != "" {
		doc = bytes.ReplaceAll(doc, []byte(dir), nil)
	}
	h := sha256.Sum256(doc)
	d := hex.EncodeToString(h[:])
	c.tools.Store(p, d)
	return d, nil
}

// lookup returns the outputs of a cached job, after checking that every
// file in them is still there with the same content. A damaged entry is
// dropped.
func (c *Cache) lookup(ctx context.Context, keys ...string) (map[string]any, bool) {
	for _, key := range keys {
		e, err := c.Store.GetCache(ctx, key)
		if err != nil {
			continue
		}
		if !c.intact(ctx, e.Outputs) {
			_ = c.Store.DeleteCache(ctx, key)
			_ = removeAll(e.Dir)
			continue
		}
		if now := time.Now(); now.Sub(e.LastUsed) >= lastUsedEvery {
			e.LastUsed = now
			_ = c.Store.PutCache(ctx, e)
		}
		// Decoded for this call alone: the caller may have it.
		return e.Outputs, true
	}
	return nil, false
}

// lastUsedEvery is how stale an entry's LastUsed may get: a hit records
// its time only when the last one recorded is older, so the jobs of a run
// resumed or repeated soon after (and identical jobs of one run) reuse
// their entries without a write each. `flow cache ls` and `prune` order
// and age entries to the minute.
const lastUsedEvery = time.Minute

func (c *Cache) intact(ctx context.Context, outputs map[string]any) bool {
	err := walkFiles(outputs, func(m map[string]any) error {
		path := localPath(m)
		if m["class"] != "File" {
			if _, err := os.Stat(path); err != nil {
				return err
			}
			return nil
		}
		sum, _, err := c.sha1Of(ctx, path)
		if err != nil || sum != m["checksum"] {
			return fmt.Errorf("changed")
		}
		return nil
	})
	return err == nil
}

func (c *Cache) entryDir(key string) string { return filepath.Join(c.Dir, key[:2], key) }

// errEntryTaken says a job's outputs were not cached because another job
// of the same key, maybe in another flow process, holds the entry.
var errEntryTaken = errors.New("the cache entry is held by another job")

// memo is the run's checksum memo, kept in the cache index's database
// when that database keeps one.
func (c *Cache) memoOf() *digest.Memo {
	c.memoOnce.Do(func() {
		if s, ok := c.Store.(digest.Store); ok {
			c.memo.Store = s
		}
	})
	return &c.memo
}

// sized is a file's checksum and size.
type sized struct {
	sum  string
	size int64
}

// keep copies a finished job's output directory into the cache entry dir,
// hashing every file while it copies it (or cloning it, where the file
// system can), and returns the checksums and sizes of the job's files by
// path. The job keeps its own files, which move into --outdir at the end
// by one rename; the cache keeps copies that share no inode with them. An
// entry dir that exists belongs to another job, which may be running or
// may be another run's finished job whose outputs are in use: it is never
// removed or replaced here (errEntryTaken).
func (c *Cache) keep(ctx context.Context, outdir, dir string) (map[string]sized, error) {
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, os.ErrNotExist) { // the first entry under its prefix
		if err = os.MkdirAll(filepath.Dir(dir), 0o755); err == nil {
			err = os.Mkdir(dir, 0o755)
		}
	}
	if errors.Is(err, os.ErrExist) {
		return nil, errEntryTaken
	}
	if err != nil {
		return nil, err
	}
	sums := map[string]sized{}
	if err := c.keepTree(ctx, outdir, dir, sums); err != nil {
		_ = removeAll(dir)
		return nil, fmt.Errorf("cannot keep the outputs in the cache: %w", err)
	}
	return sums, nil
}

// keepTree copies the tree under src into dst: symbolic links as they
// are (as a rename would have kept them), regular files hashed as they
// are copied. Anything else a job leaves (a FIFO, a socket) is no output
// and is not kept.
func (c *Cache) keepTree(ctx context.Context, src, dst string, sums map[string]sized) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		switch t := e.Type(); {
		case t&os.ModeSymlink != 0:
			target, err := os.Readlink(s)
			if err == nil {
				err = os.Symlink(target, d)
			}
			if err != nil {
				return err
			}
		case t.IsDir():
			if err := os.Mkdir(d, 0o755); err != nil {
				return err
			}
			if err := c.keepTree(ctx, s, d, sums); err != nil {
				return err
			}
		case t.IsRegular():
			sum, n, err := c.memoOf().CopyFile(ctx, s, d)
			if err != nil {
				return err
			}
			sums[s] = sized{sum, n}
		}
	}
	return nil
}

// save keeps a copy of a finished job's outputs in the cache and records
// them under key. It returns the outputs, still in the job's directory,
// with their checksums and sizes, learnt while copying, and the entry's
// directory. A key still being computed is waited for only once the
// copies are made (keepEarly).
func (c *Cache) save(ctx context.Context, j *job, k *jobKey, outputs map[string]any, runID string) (map[string]any, string, error) {
	c.sweepOnce.Do(c.sweepIncoming)
	key, dir := "", ""
	var sums map[string]sized
	var err error
	if known, ok := k.known(); ok {
		key, dir = known, c.entryDir(known)
		sums, err = c.keep(ctx, j.outdir, dir)
	} else {
		key, dir, sums, err = c.keepEarly(ctx, j.outdir, k)
	}
	if err != nil {
		return nil, "", err
	}
	var size int64
	if err := walkFiles(outputs, func(m map[string]any) error {
		if m["class"] != "File" {
			return nil
		}
		s, ok := sums[localPath(m)]
		if !ok { // outside the job's directory, or through a link
			var err error
			if s.sum, s.size, err = c.sha1Of(ctx, localPath(m)); err != nil {
				return err
			}
		}
		m["checksum"], m["size"] = s.sum, s.size
		size += s.size
		return nil
	}); err != nil {
		_ = removeAll(dir)
		return nil, "", err
	}
	now := time.Now()
	e := &provenance.CacheEntry{Key: key, Dir: dir, Outputs: rebase(outputs, j.outdir, dir).(map[string]any), Size: size, Created: now, LastUsed: now, RunID: runID, Job: j.name}
	if err := c.Store.PutCache(ctx, e); err != nil {
		_ = removeAll(dir)
		return nil, "", err
	}
	return outputs, dir, nil
}

// rebase rewrites paths and locations under from to be under to.
func rebase(v any, from, to string) any {
	v = deepCopy(v)
	_ = walkFiles(v, func(m map[string]any) error {
		p := localPath(m)
		if p == from || strings.HasPrefix(p, from+string(os.PathSeparator)) {
			np := to + p[len(from):]
			m["path"], m["location"] = np, schema.FileURI(np)
			fillNames(m)
		}
		return nil
	})
	return v
}

// runScoped is the key under which a run keeps a job that may not be
// reused by other runs, so that resuming the same run still skips it.
func runScoped(runID, key string) string { return "run:" + runID + ":" + key }

// reuseAllowed evaluates WorkReuse's enableReuse (true when absent).
func reuseAllowed(pe *procEnv, ev *expr.Evaluator, inputs map[string]any) (bool, error) {
	r, ok := pe.find("WorkReuse")
	if !ok || r["enableReuse"] == nil {
		return true, nil
	}
	v := r["enableReuse"]
	if s, ok := v.(string); ok {
		var err error
		if v, err = ev.Eval(s, expr.Context{Inputs: inputs}); err != nil {
			return false, err
		}
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("WorkReuse: enableReuse must be true or false, got %s", schema.Describe(v))
	}
	return b, nil
}

// documentDir is the folder URI (with a final slash) of a process id such
// as "file:///home/a/wf/tool.cwl#main".
func documentDir(id string) string {
	if i := strings.Index(id, "#"); i >= 0 {
		id = id[:i]
	}
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[:i+1]
	}
	return ""
}
