package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/provenance"
)

// fixture is a real database file with three runs, step attempts with
// log files, file lineage and two cache entries, as flow run would leave.
type fixture struct {
	db       string // the database file
	dir      string // where log files, outputs and cache directories live
	t0       time.Time
	oldCache string // a cache entry's directory, last used 40 days ago
	newCache string // one last used yesterday
}

// Run ids: r1 alone on 1 January; r2 and r3 share the prefix "20260102".
const (
	r1 = "20260101T090000.000Z-aaaaaa"
	r2 = "20260102T090000.000Z-bbbbbb"
	r3 = "20260102T100000.000Z-cccccc"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{db: filepath.Join(dir, "flow.db"), dir: dir, t0: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	db, err := provenance.Open(f.db, provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, r := range f.runs() {
		must(t, db.CreateRun(ctx, r))
	}
	for _, a := range f.attempts(t) {
		must(t, db.PutAttempt(ctx, a))
	}
	must(t, db.RecordFiles(ctx, r1, []provenance.FileRef{{Path: f.path("out/stats.tsv"), SHA1: "sha1$bbbb", Size: 20}}))
	for _, e := range f.cacheEntries(t) {
		must(t, db.PutCache(ctx, e))
	}
	return f
}

func (f *fixture) path(rel string) string { return filepath.Join(f.dir, rel) }

func (f *fixture) runs() []*provenance.Run {
	return []*provenance.Run{
		{
			ID: r1, Workflow: "/data/wf/fasta-stats.cwl", State: provenance.RunSucceeded,
			Started: f.t0, Finished: f.t0.Add(3*time.Minute + 4*time.Second),
			Inputs: map[string]any{
				"fastas":  []any{fileValue("/data/a.fa"), fileValue("/data/b.fa")},
				"min_len": int64(10),
			},
			User: "ada", Host: "laptop", Executor: "local", FlowVersion: "v0.3.0", Outdir: f.path("out"),
		},
		{
			ID: r2, Workflow: "/data/wf/read-filter.cwl#main", State: provenance.RunFailed,
			Error:   "step count failed: exit code 1",
			Started: f.t0.Add(24 * time.Hour), Finished: f.t0.Add(24*time.Hour + 1200*time.Millisecond),
		},
		{ID: r3, Workflow: "/data/wf/corpus-words.cwl", State: provenance.RunRunning, Started: f.t0.Add(25 * time.Hour)},
	}
}

func fileValue(path string) map[string]any {
	return map[string]any{"class": "File", "location": "file://" + path}
}

// attempts: r1 ran one stats job; r2 scattered stats over two files,
// tried count twice, reused merge from the cache.
func (f *fixture) attempts(t *testing.T) []*provenance.Attempt {
	start := f.t0.Add(24 * time.Hour)
	return []*provenance.Attempt{
		{
			RunID: r1, Job: "main/stats/0", StepID: "stats", Attempt: 1, State: provenance.StepSucceeded,
			CommandLine: []string{"awk", "-f", "stats.awk", "/data/a.fa"}, Started: f.t0, Finished: f.t0.Add(time.Second),
			Used:      []provenance.FileRef{{Path: "/data/a.fa", SHA1: "sha1$aaaa", Size: 10}},
			Generated: []provenance.FileRef{{Path: "/work/stats/stats.tsv", SHA1: "sha1$bbbb", Size: 20}},
		},
		{
			RunID: r2, Job: "main/stats/0", StepID: "stats", ScatterIndex: 0, Attempt: 1, State: provenance.StepSucceeded,
			Host: "node1", Image: "debian:12", JobID: "4242", Started: start, Finished: start.Add(340 * time.Millisecond),
			Stdout: f.log(t, "stats0.out", "n=3\n"), Stderr: f.log(t, "stats0.err", "reading a.fa"),
		},
		{
			RunID: r2, Job: "main/stats/1", StepID: "stats", ScatterIndex: 1, Attempt: 1, State: provenance.StepSucceeded,
			Started: start, Finished: start.Add(time.Second), Stderr: f.log(t, "stats1.err", "reading b.fa\n"),
		},
		{
			RunID: r2, Job: "main/count", StepID: "count", ScatterIndex: -1, Attempt: 1, State: provenance.StepFailed,
			ExitCode: 1, Started: start.Add(time.Second), Finished: start.Add(2 * time.Second),
			Stderr: f.log(t, "count1.err", "first try failed\n"),
		},
		{
			RunID: r2, Job: "main/count", StepID: "count", ScatterIndex: -1, Attempt: 2, State: provenance.StepFailed,
			ExitCode: 1, Started: start.Add(2 * time.Second), Finished: start.Add(3 * time.Second),
			Stderr: f.log(t, "count2.err", "count: no reads left\n"),
		},
		{
			RunID: r2, Job: "main/merge", StepID: "merge", ScatterIndex: -1, Attempt: 1, State: provenance.StepReused,
			CacheKey: "sha256:feedface", Started: start.Add(time.Second), Finished: start.Add(time.Second),
		},
	}
}

// log writes a log file and returns its path.
func (f *fixture) log(t *testing.T, name, content string) string {
	p := f.path("logs/" + name)
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func (f *fixture) cacheEntries(t *testing.T) []*provenance.CacheEntry {
	now := time.Now()
	f.oldCache, f.newCache = f.path("cache/old"), f.path("cache/new")
	for _, d := range []string{f.oldCache, f.newCache} {
		must(t, os.MkdirAll(d, 0o755))
		must(t, os.WriteFile(filepath.Join(d, "out.txt"), []byte("x"), 0o644))
	}
	return []*provenance.CacheEntry{
		{
			Key: "sha256:0123456789abcdef0123", Dir: f.oldCache, Size: 12 * 1024, Job: "main/stats/0", RunID: r1,
			Created: now.Add(-50 * 24 * time.Hour), LastUsed: now.Add(-40 * 24 * time.Hour),
		},
		{
			Key: "sha256:fedcba9876543210fedc", Dir: f.newCache, Size: 3<<30 + 400<<20, Job: "main/merge", RunID: r2,
			Created: now.Add(-10 * 24 * time.Hour), LastUsed: now.Add(-24 * time.Hour),
		},
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// flowIn runs flow's dispatcher in this process, as the binary would.
func flowIn(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestFormatDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{340*time.Millisecond + 400*time.Microsecond, "340ms"},
		{1234 * time.Millisecond, "1.2s"},
		{9960 * time.Millisecond, "10s"},
		{42*time.Second + 400*time.Millisecond, "42s"},
		{3*time.Minute + 4*time.Second + 300*time.Millisecond, "3m4s"},
		{59*time.Minute + 59*time.Second + 700*time.Millisecond, "1h0m"},
		{2*time.Hour + 5*time.Minute + 40*time.Second, "2h6m"},
		{50 * time.Hour, "50h0m"},
		{-time.Second, "-"},
	}
	for _, c := range cases {
		if got := formatDuration(c.d); got != c.want {
			t.Errorf("formatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	cases := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{1536, "1.5 KiB"},
		{12 * 1024, "12 KiB"},
		{3<<30 + 400<<20, "3.4 GiB"},
		{5 << 40, "5 TiB"},
	}
	for _, c := range cases {
		if got := formatSize(c.n); got != c.want {
			t.Errorf("formatSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	if got := formatTime(time.Time{}); got != "-" {
		t.Errorf("formatTime(zero) = %q, want -", got)
	}
	// The same instant in UTC is shown in local time.
	local := time.Date(2026, 3, 4, 5, 6, 7, 0, time.Local)
	if got := formatTime(local.UTC()); got != "2026-03-04 05:06" {
		t.Errorf("formatTime = %q, want 2026-03-04 05:06 (local time)", got)
	}
}

func TestElapsed(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := elapsed(t0, time.Time{}); got != "-" {
		t.Errorf("unfinished: %q, want -", got)
	}
	if got := elapsed(t0, t0.Add(1500*time.Millisecond)); got != "1.5s" {
		t.Errorf("elapsed = %q, want 1.5s", got)
	}
}

// TestMissingDatabase: read commands neither fail for a database that
// does not exist (listings) nor create it.
func TestMissingDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "none", "flow.db")
	cases := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"runs", "--db", db}, 0, "no runs recorded yet (database: " + db + ")\n", ""},
		{[]string{"runs", "--db", db, "-o", "json"}, 0, "[]\n", ""},
		{[]string{"cache", "ls", "--db", db}, 0, "the step cache is empty\n", ""},
		{[]string{"cache", "prune", "--db", db}, 0, "the step cache is empty; nothing to prune\n", ""},
		{[]string{"show", "2026", "--db", db}, 1, "", "flow: no runs recorded yet (database: " + db + ")\n"},
		{[]string{"logs", "2026", "--db", db}, 1, "", "flow: no runs recorded yet (database: " + db + ")\n"},
		{[]string{"lineage", "x.txt", "--db", db}, 1, "", "flow: no runs recorded yet (database: " + db + ")\n"},
	}
	for _, c := range cases {
		r := flowIn(t, c.args...)
		if r.code != c.code || r.stdout != c.stdout || r.stderr != c.stderr {
			t.Errorf("flow %q: exit %d, stdout %q, stderr %q; want %d, %q, %q", c.args, r.code, r.stdout, r.stderr, c.code, c.stdout, c.stderr)
		}
	}
	if _, err := os.Stat(filepath.Dir(db)); !os.IsNotExist(err) {
		t.Errorf("a read command created %s", filepath.Dir(db))
	}
}

// TestDefaultDatabase runs the binary without --db: the database is
// found under $XDG_DATA_HOME.
func TestDefaultDatabase(t *testing.T) {
	f := newFixture(t)
	data := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(data, "flow"), 0o755))
	must(t, os.Rename(f.db, filepath.Join(data, "flow", "flow.db")))
	r := flowEnv(t, []string{"XDG_DATA_HOME=" + data}, "runs", "-n", "1")
	if r.code != 0 || !strings.Contains(r.stdout, r3) || strings.Contains(r.stdout, r2) {
		t.Errorf("flow runs -n 1: exit %d, stdout %q, stderr %q; want run %s only", r.code, r.stdout, r.stderr, r3)
	}
}

// TestLockedDatabase: while another process (here: an open handle for
// writing) holds the database, commands say so instead of hanging.
func TestLockedDatabase(t *testing.T) {
	f := newFixture(t)
	db, err := provenance.Open(f.db, provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := flowIn(t, "runs", "--db", f.db)
	if r.code != 1 || !strings.Contains(r.stderr, "in use by another flow process") {
		t.Errorf("flow runs on a locked database: exit %d, stderr %q", r.code, r.stderr)
	}
}

// flowEnv runs the binary with extra environment variables.
func flowEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(flowBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("cannot run flow: %v", err)
	}
	return r
}
