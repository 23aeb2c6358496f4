package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/provenance"
)

func TestCacheLs(t *testing.T) {
	f := newFixture(t)
	r := flowIn(t, "cache", "ls", "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header, 2 entries and a total:\n%s", r.stdout)
	}
	// Most recently used first; keys without their algorithm, cut short.
	for i, want := range [][]string{
		{"KEY", "JOB", "SIZE", "CREATED", "LAST USED"},
		{"fedcba987654 ", "main/merge", "3.4 GiB"},
		{"0123456789ab ", "main/stats/0", "12 KiB", formatTime(time.Now().Add(-40 * 24 * time.Hour))[:10]},
		{"2 entries, 3.4 GiB"},
	} {
		for _, cell := range want {
			if !strings.Contains(lines[i], cell) {
				t.Errorf("line %d %q lacks %q", i, lines[i], cell)
			}
		}
	}

	r = flowIn(t, "cache", "ls", "-o", "json", "--db", f.db)
	var entries []provenance.CacheEntry
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil || len(entries) != 2 || entries[0].Dir != f.newCache {
		t.Errorf("cache ls -o json: %v, %+v", err, entries)
	}
}

func TestCachePrune(t *testing.T) {
	f := newFixture(t)
	// A dry run names the old entry and deletes nothing.
	r := flowIn(t, "cache", "prune", "--dry-run", "--db", f.db)
	if r.code != 0 || !strings.Contains(lineWith(r.stdout, "0123456789ab"), "would remove") ||
		!strings.HasSuffix(r.stdout, "would remove 1 entry and free 12 KiB; 1 would be kept\n") {
		t.Errorf("prune --dry-run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	assertCache(t, f, 2, true, true)

	// The default, 30 days: the entry last used 40 days ago goes.
	r = flowIn(t, "cache", "prune", "--db", f.db)
	if r.code != 0 || !strings.Contains(lineWith(r.stdout, "0123456789ab"), "removed") ||
		!strings.HasSuffix(r.stdout, "removed 1 entry, freed 12 KiB; 1 kept\n") {
		t.Errorf("prune: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	assertCache(t, f, 1, false, true)

	r = flowIn(t, "cache", "prune", "--older-than", "2w", "--db", f.db)
	if r.code != 0 || r.stdout != "nothing to prune: none of the 1 cache entry went unused for 14d\n" {
		t.Errorf("prune --older-than 2w: exit %d, stdout %q", r.code, r.stdout)
	}
	assertCache(t, f, 1, false, true)

	r = flowIn(t, "cache", "prune", "--all", "--db", f.db)
	if r.code != 0 || !strings.HasSuffix(r.stdout, "removed 1 entry, freed 3.4 GiB; 0 kept\n") {
		t.Errorf("prune --all: exit %d, stdout %q", r.code, r.stdout)
	}
	assertCache(t, f, 0, false, false)
}

// assertCache checks how many entries the index holds and which of the
// two cache directories still exist.
func assertCache(t *testing.T, f *fixture, n int, oldDir, newDir bool) {
	t.Helper()
	r := flowIn(t, "cache", "ls", "-o", "json", "--db", f.db)
	var entries []provenance.CacheEntry
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil || len(entries) != n {
		t.Errorf("the index holds %d entries (%v), want %d", len(entries), err, n)
	}
	for dir, want := range map[string]bool{f.oldCache: oldDir, f.newCache: newDir} {
		if _, err := os.Stat(dir); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", dir, err == nil, want)
		}
	}
}

func TestCacheUsage(t *testing.T) {
	f := newFixture(t)
	cases := map[string][]string{
		"flow cache needs a command":       {"cache"},
		`unknown cache command "rm"`:       {"cache", "rm"},
		`"soon" is not an age`:             {"cache", "prune", "--older-than", "soon"},
		"flow cache ls takes no arguments": {"cache", "ls", "extra"},
	}
	for msg, args := range cases {
		r := flowIn(t, append(args, "--db", f.db)...)
		if r.code != 2 || !strings.Contains(r.stderr, msg) {
			t.Errorf("flow %q: exit %d, stderr %q; want 2 and %q", args, r.code, r.stderr, msg)
		}
	}
}

func TestParseAge(t *testing.T) {
	cases := map[string]time.Duration{
		"30d":  30 * 24 * time.Hour,
		"2w":   14 * 24 * time.Hour,
		"1.5d": 36 * time.Hour,
		"12h":  12 * time.Hour,
		"0":    0,
	}
	for in, want := range cases {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-3d", "soon", "-1h"} {
		if _, err := parseAge(bad); err == nil {
			t.Errorf("parseAge(%q) succeeded", bad)
		}
	}
}

func TestShortKey(t *testing.T) {
	cases := map[string]string{
		"sha256:0123456789abcdef": "0123456789ab",
		"abc":                     "abc",
		"sha256:ab":               "ab",
		"0123456789-abcdef0123":   "012345-abcdef",
		"run:20261206T110412.122Z-2x4tzz:0123456789-abcdef0123": "012345-abcdef",
	}
	for in, want := range cases {
		if got := shortKey(in); got != want {
			t.Errorf("shortKey(%q) = %q, want %q", in, got, want)
		}
	}
}
