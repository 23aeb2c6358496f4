package main

import (
	"os"
	"strings"
	"testing"
)

func TestLineage(t *testing.T) {
	f := newFixture(t)
	r := flowIn(t, "lineage", f.path("out/stats.tsv"), "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{r1, "main/stats/0", "awk -f stats.awk /data/a.fa", "/data/a.fa"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lineage lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestLineageRelative: a path relative to the working directory is the
// same file as its absolute path.
func TestLineageRelative(t *testing.T) {
	f := newFixture(t)
	must(t, os.MkdirAll(f.path("out"), 0o755))
	t.Chdir(f.path("out"))
	r := flowIn(t, "lineage", "stats.tsv", "--db", f.db)
	if r.code != 0 || !strings.Contains(r.stdout, "main/stats/0") {
		t.Errorf("lineage of a relative path: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestLineageUnknown: no run wrote a stray file where it is, and by its
// content it is an input as far as flow knows; a file that is neither
// recorded nor there is an error.
func TestLineageUnknown(t *testing.T) {
	f := newFixture(t)
	must(t, os.WriteFile(f.path("stray.txt"), []byte("?"), 0o644))
	r := flowIn(t, "lineage", f.path("stray.txt"), "--db", f.db)
	if r.code != 1 || !strings.Contains(r.stderr, "no record of a run writing") || !strings.Contains(r.stderr, "--by-content") {
		t.Errorf("lineage of an unknown file by path: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = flowIn(t, "lineage", "--by-content", f.path("stray.txt"), "--db", f.db)
	if r.code != 0 || !strings.Contains(r.stdout, "no recorded step made it") {
		t.Errorf("lineage of an unknown file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = flowIn(t, "lineage", f.path("missing.txt"), "--db", f.db)
	if r.code != 1 || !strings.Contains(r.stderr, "missing.txt") || len(stderrLines(r.stderr)) != 1 {
		t.Errorf("lineage of a missing file: exit %d, stderr %q", r.code, r.stderr)
	}
}
