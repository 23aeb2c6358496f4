package provenance

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// cacheCrashHelperEnv, when set to a database path, turns this test
// binary into the writer of step cache entries that
// TestKillDuringCacheWritesLosesNoEntry kills (see TestMain).
const cacheCrashHelperEnv = "FLOW_PROVENANCE_CACHE_CRASH_WRITER"

// cacheCrashWriter records cache entries from 8 goroutines for ever, as
// the jobs of a scatter do, printing each key once PutCache has returned.
// Each entry's outputs name its key, so a mixed-up entry shows.
func cacheCrashWriter(path string) {
	db, err := Open(path, Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("%02x%062d", rand.IntN(256), g*1_000_000+i)
				if err := db.PutCache(ctx, crashEntry(key)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(out, key)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func crashEntry(key string) *CacheEntry {
	dir := "/cache/" + key[:2] + "/" + key
	return &CacheEntry{Key: key, Dir: dir, Size: 10, Created: time.Now(), LastUsed: time.Now(), RunID: "r", Job: "echo",
		Outputs: map[string]any{"out": map[string]any{"class": "File", "path": dir + "/out.txt",
			"checksum": "sha1$" + strings.Repeat("0", 40), "size": int64(10), "note": strings.Repeat(key, 20)}}}
}

// Cache entries commit in shared transactions; a flow killed with SIGKILL
// at any moment leaves an index that opens, passes bbolt's check, holds
// every entry whose PutCache had returned, and whose every entry decodes
// whole and is its own.
func TestKillDuringCacheWritesLosesNoEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	afterKills(t, cacheCrashHelperEnv, func(db *DB, round int, committed map[string]bool) {
		entries, err := db.ListCache(ctx)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, e := range entries {
			if note, _ := e.Outputs["out"].(map[string]any)["note"].(string); note != strings.Repeat(e.Key, 20) {
				t.Fatalf("round %d: entry %s holds another entry's outputs", round, e.Key)
			}
		}
		for key := range committed {
			if _, err := db.GetCache(ctx, key); err != nil {
				t.Fatalf("round %d: entry %s was committed before the kill but: %v", round, key, err)
			}
		}
		t.Logf("round %d: killed after %d committed entries; all there", round, len(committed))
	})
}
