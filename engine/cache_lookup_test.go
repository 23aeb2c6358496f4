package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/digest"
	"github.com/flow-cwl/flow/provenance"
)

// A hit records when the entry was used (for `flow cache ls` and
// `prune`), but to the minute: an entry used within the last minute (a
// resumed run, identical jobs of one run) is reused without a write.
func TestHitRecordsItsUseToTheMinute(t *testing.T) {
	dir := t.TempDir()
	store, err := provenance.OpenShared(filepath.Join(dir, "flow.db"), provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c := &Cache{Dir: filepath.Join(dir, "cache"), Store: store}
	ctx := context.Background()
	put := func(key string, lastUsed time.Time) {
		t.Helper()
		entry := c.entryDir(key)
		os.MkdirAll(entry, 0o755)
		p := filepath.Join(entry, "out.txt")
		os.WriteFile(p, []byte("message 1\n"), 0o644)
		sum, _, _ := digest.File(ctx, p)
		out := map[string]any{"out": map[string]any{"class": "File", "path": p, "location": "file://" + p, "basename": "out.txt", "checksum": sum, "size": int64(10)}}
		if err := store.PutCache(ctx, &provenance.CacheEntry{Key: key, Dir: entry, Outputs: out, Created: lastUsed, LastUsed: lastUsed}); err != nil {
			t.Fatal(err)
		}
	}
	lastUsed := func(key string) time.Time {
		t.Helper()
		e, err := store.GetCache(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return e.LastUsed
	}
	old, recent := "ab"+strings.Repeat("1", 62), "cd"+strings.Repeat("2", 62)
	hourAgo, secondsAgo := time.Now().Add(-time.Hour), time.Now().Add(-5*time.Second)
	put(old, hourAgo)
	put(recent, secondsAgo)
	before := time.Now()
	for _, key := range []string{old, recent} {
		out, ok := c.lookup(ctx, key)
		if !ok || readOutput(t, out["out"]) != "message 1\n" {
			t.Fatalf("lookup %s = %v, %v; want the cached output", key, out, ok)
		}
	}
	if got := lastUsed(old); got.Before(before) {
		t.Errorf("an entry last used an hour ago, reused now, says last used %v", got)
	}
	if got := lastUsed(recent); !got.Equal(secondsAgo) {
		t.Errorf("an entry used seconds ago was written again on reuse: last used %v, was %v", got, secondsAgo)
	}
}

// A small cached output (copied through memory, its checksum kept by no
// memo across runs) changed in place with its size and modification
// time put back is not reused either: a hit reads it again.
func TestCacheNoticesASmallOutputChangedBehindRestoredTimes(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "ran")
	doc := `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo x >> "$0"; echo hello']
inputs: {counter: {type: string, inputBinding: {position: 1}}}
outputs: {out: stdout}
stdout: out.txt
`
	in := map[string]any{"counter": counter}
	cachedRun(t, dir, doc, filepath.Join(dir, "o1"), in)
	cached, _ := filepath.Glob(filepath.Join(dir, "cache", "*", "*", "out.txt"))
	if len(cached) != 1 {
		t.Fatalf("cache holds %v, want one out.txt", cached)
	}
	changeBehindRestoredTimes(t, cached[0], 0, 'j') // "jello"
	again := cachedRun(t, dir, doc, filepath.Join(dir, "o2"), in)
	if n := runs(t, counter); n != 2 {
		t.Errorf("after the cached output changed the tool ran %d times in all, want 2 (run again)", n)
	}
	if got := readOutput(t, again["out"]); got != "hello\n" {
		t.Errorf("the run delivered %q, the changed bytes of the cache", got)
	}
}
