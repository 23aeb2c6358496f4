package main

import (
	"path/filepath"
	"testing"
)

// Runs that record into different provenance databases share one step
// cache when they share its index (--cache-db): the second run reuses
// every step of the first. Sharing the directory alone does not: the
// index is then in each run's database, and nothing is reused.
func TestCacheDBSharesTheCacheAcrossDatabases(t *testing.T) {
	d := newReuseDir(t)
	cache, index := filepath.Join(d.dir, "cache"), filepath.Join(d.dir, "cache.db")
	d.run(t, "chain.cwl", filepath.Join(d.dir, "o1"), "--cache-dir", cache, "--cache-db", index)
	d.run(t, "chain.cwl", filepath.Join(d.dir, "o2"), "--db", filepath.Join(d.dir, "b.db"), "--cache-dir", cache, "--cache-db", index)
	if got, want := d.ran(t), map[string]int{"a": 1, "b": 1, "c": 1, "d": 1}; !equalCounts(got, want) {
		t.Errorf("with a shared index: ran %v, want %v", got, want)
	}
	d.run(t, "chain.cwl", filepath.Join(d.dir, "o3"), "--db", filepath.Join(d.dir, "c.db"), "--cache-dir", cache)
	if got, want := d.ran(t), map[string]int{"a": 2, "b": 2, "c": 2, "d": 2}; !equalCounts(got, want) {
		t.Errorf("with the index in another database: ran %v, want %v", got, want)
	}
}
