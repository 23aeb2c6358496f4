package provenance

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var ctx = context.Background()

func TestNewRunIDSortsByTimeAndIsReadable(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 19, 36, 0, 123e6, time.FixedZone("CET", 3600))
	id := newRunID(t0)
	if !strings.HasPrefix(id, "20261121T183600.123Z-") || len(id) != len("20261121T183600.123Z-")+6 {
		t.Fatalf("newRunID = %q, want the UTC time then 6 characters", id)
	}
	var ids []string
	for i := range 50 {
		ids = append(ids, newRunID(t0.Add(time.Duration(i)*time.Millisecond)))
	}
	if !slices.IsSorted(ids) {
		t.Fatalf("IDs made a millisecond apart do not sort by time: %v", ids)
	}
	if a, b := NewRunID(), NewRunID(); a == b {
		t.Fatalf("two NewRunID calls gave the same ID %s", a)
	}
}

func TestRunsListNewestFirstAndFindByPrefix(t *testing.T) {
	db := openTestDB(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i := range 5 {
		r := &Run{ID: newRunID(t0.Add(time.Duration(i) * time.Hour)), Workflow: fmt.Sprintf("/wf%d.cwl", i), State: RunRunning}
		if err := db.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if err := db.CreateRun(ctx, &Run{ID: ids[0]}); err == nil {
		t.Error("creating a run with an existing ID succeeded")
	}

	all, err := db.ListRuns(ctx, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := runIDs(all), reversed(ids); !slices.Equal(got, want) {
		t.Fatalf("ListRuns = %v, want newest first %v", got, want)
	}
	page1, _ := db.ListRuns(ctx, 2, "")
	page2, _ := db.ListRuns(ctx, 2, page1[1].ID)
	page3, _ := db.ListRuns(ctx, 2, page2[1].ID)
	if got := append(append(runIDs(page1), runIDs(page2)...), runIDs(page3)...); !slices.Equal(got, reversed(ids)) {
		t.Fatalf("paging by 2 gave %v, want %v", got, reversed(ids))
	}

	r, err := db.GetRun(ctx, ids[3][:12]) // "20260102T060" names the run at 06:04 only
	if err != nil || r.ID != ids[3] {
		t.Fatalf("GetRun(prefix %q) = %v, %v; want run %s", ids[3][:12], r, err, ids[3])
	}
	_, err = db.GetRun(ctx, "20260102T0")
	if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), ids[0]) {
		t.Errorf("an ambiguous prefix gave %v; want ErrAmbiguous naming the candidates", err)
	}
	if _, err = db.GetRun(ctx, "1999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetRun of an unknown ID gave %v, want ErrNotFound", err)
	}
}

func runIDs(runs []*Run) []string {
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestUpdateRunSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{ID: NewRunID(), Workflow: "/wf.cwl", State: RunRunning, Started: time.Now().UTC()}
	if err := db.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.State, r.Finished, r.Outputs = RunFailed, r.Started.Add(time.Second), map[string]any{"n": int64(3)}
	if err := db.UpdateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateRun(ctx, &Run{ID: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("updating an unknown run gave %v, want ErrNotFound", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.GetRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != RunFailed || !got.Finished.Equal(r.Finished) || got.Outputs["n"] != int64(3) {
		t.Fatalf("after reopening, run = %+v", got)
	}
	if err := db.CreateRun(ctx, &Run{ID: "x"}); err == nil {
		t.Error("a read-only database accepted a new run")
	}
}

func TestAttemptsInStartOrderAndReplacedByKey(t *testing.T) {
	db := openTestDB(t)
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	put := func(run, job string, n int, at time.Duration, state StepState) {
		t.Helper()
		if err := db.PutAttempt(ctx, &Attempt{RunID: run, Job: job, Attempt: n, State: state, Started: t0.Add(at)}); err != nil {
			t.Fatal(err)
		}
	}
	put("run1", "main/z", 1, 1*time.Second, StepRunning)
	put("run1", "main/a", 1, 3*time.Second, StepFailed)
	put("run1", "main/a", 2, 5*time.Second, StepRunning)
	put("run1", "main/m", 1, 1*time.Second, StepSucceeded)
	put("run10", "main/a", 1, 0, StepSucceeded) // "run1" must not find the attempts of "run10"
	put("run1", "main/a", 2, 5*time.Second, StepSucceeded)

	atts, err := db.Attempts(ctx, "run1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range atts {
		got = append(got, fmt.Sprintf("%s#%d:%s", a.Job, a.Attempt, a.State))
	}
	want := []string{"main/m#1:succeeded", "main/z#1:running", "main/a#1:failed", "main/a#2:succeeded"}
	if !slices.Equal(got, want) {
		t.Fatalf("Attempts(run1) = %v, want %v", got, want)
	}
	if err := db.PutAttempt(ctx, &Attempt{RunID: "run1", Job: "bad\x00job"}); err == nil {
		t.Error("a job name with a NUL byte was accepted")
	}
}

func TestGeneratedByNewestFirstAndFileByPath(t *testing.T) {
	db := openTestDB(t)
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	out := FileRef{Path: "/data/out.txt", SHA1: "sha1$aaaa", Size: 4}
	older := &Attempt{RunID: "r1", Job: "main/s", Attempt: 1, State: StepSucceeded, Started: t0, Generated: []FileRef{out}}
	newer := &Attempt{RunID: "r2", Job: "main/s", Attempt: 1, State: StepSucceeded, Started: t0.Add(time.Hour), Generated: []FileRef{out}}
	for _, a := range []*Attempt{newer, older} {
		if err := db.PutAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	atts, err := db.GeneratedBy(ctx, out.SHA1)
	if err != nil || len(atts) != 2 || atts[0].RunID != "r2" || atts[1].RunID != "r1" {
		t.Fatalf("GeneratedBy = %v, %v; want r2 then r1", atts, err)
	}

	// The older attempt, written last, must not roll the path back.
	if got, err := db.FileByPath(ctx, "/data/out.txt"); err != nil || got != out {
		t.Fatalf("FileByPath = %+v, %v; want %+v", got, err, out)
	}
	// Replaced content: r2 is re-recorded as having made something else.
	changed := FileRef{Path: "/data/out.txt", SHA1: "sha1$bbbb", Size: 5}
	newer.Generated, newer.Finished = []FileRef{changed}, t0.Add(2*time.Hour)
	if err := db.PutAttempt(ctx, newer); err != nil {
		t.Fatal(err)
	}
	atts, _ = db.GeneratedBy(ctx, out.SHA1)
	if len(atts) != 1 || atts[0].RunID != "r1" {
		t.Fatalf("after r2 was replaced, GeneratedBy(old content) = %v, want only r1", atts)
	}
	if got, _ := db.FileByPath(ctx, "/data/out.txt"); got != changed {
		t.Fatalf("FileByPath after the path changed = %+v, want %+v", got, changed)
	}
	if _, err := db.FileByPath(ctx, "/nowhere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FileByPath of an unknown path gave %v, want ErrNotFound", err)
	}
	if none, err := db.GeneratedBy(ctx, "sha1$cccc"); err != nil || len(none) != 0 {
		t.Errorf("GeneratedBy of unknown content = %v, %v; want nothing", none, err)
	}
}

func TestCacheIndex(t *testing.T) {
	db := openTestDB(t)
	for _, k := range []string{"k2", "k1"} {
		if err := db.PutCache(ctx, &CacheEntry{Key: k, Dir: "/cache/" + k, Outputs: map[string]any{"x": "y"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutCache(ctx, &CacheEntry{Key: "k1", Dir: "/cache/k1", Outputs: map[string]any{
		"x": "y", "n": int64(3), "ratio": 0.5, "list": []any{int64(1), 2.5}}}); err != nil {
		t.Fatal(err)
	}
	e, err := db.GetCache(ctx, "k1")
	if err != nil || e.Dir != "/cache/k1" || e.Outputs["x"] != "y" {
		t.Fatalf("GetCache(k1) = %+v, %v", e, err)
	}
	// CWL ints must come back as int64, not float64 (docs/CONVENTIONS.md).
	if e.Outputs["n"] != int64(3) || e.Outputs["ratio"] != 0.5 || e.Outputs["list"].([]any)[0] != int64(1) {
		t.Errorf("cached outputs came back as %#v", e.Outputs)
	}
	list, _ := db.ListCache(ctx)
	if len(list) != 2 || list[0].Key != "k1" || list[1].Key != "k2" {
		t.Fatalf("ListCache = %+v, want k1, k2", list)
	}
	if err := db.DeleteCache(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetCache(ctx, "k1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetCache after delete gave %v, want ErrNotFound", err)
	}
	if err := db.DeleteCache(ctx, "k1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a missing entry gave %v, want ErrNotFound", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, 99))
	})
	_ = raw.Close()
	for _, ro := range []bool{false, true} {
		_, err = Open(path, Options{ReadOnly: ro})
		if err == nil || !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), path) {
			t.Errorf("opening (read-only %v) a database from a newer flow gave %v", ro, err)
		}
	}
}

func TestReadOnlyOpenOfMissingDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	_, err := Open(path, Options{ReadOnly: true})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no run has been recorded") {
		t.Fatalf("read-only open of a missing file gave %v", err)
	}
}

func TestSecondProcessGetsClearLockError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file, so a second Open in this
	// process meets the lock exactly as another flow process would.
	for _, ro := range []bool{false, true} {
		start := time.Now()
		_, err := Open(path, Options{ReadOnly: ro, Timeout: 300 * time.Millisecond})
		waited := time.Since(start)
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("opening (read-only %v) a database in use gave %v, want ErrLocked", ro, err)
		}
		if want := "the database " + path + " is in use by another flow process"; !strings.Contains(err.Error(), want) {
			t.Errorf("lock error %q does not say %q", err, want)
		}
		// At least the timeout; the upper bound only tells a give-up
		// from a wait for the lock, which is held until the test ends.
		if waited < 250*time.Millisecond || waited > 30*time.Second {
			t.Errorf("gave up after %s, want about the 300ms timeout", waited)
		}
	}
	_ = db.Close()

	// Readers share the lock.
	r1, err := Open(path, Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, err := Open(path, Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("a second reader could not open the database: %v", err)
	}
	_ = r2.Close()
}

func TestScatterOf1000AttemptsInParallel(t *testing.T) {
	db := openTestDB(t)
	elapsed := recordScatter(t, db, "scatter", 1000)
	t.Logf("1,000 attempts recorded from 1,000 goroutines in %s", elapsed.Round(time.Millisecond))
	atts, err := db.Attempts(ctx, "scatter")
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 1000 {
		t.Fatalf("read back %d attempts, want 1000", len(atts))
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

// recordScatter records n attempts of one run, each from its own
// goroutine as the engine does for a scatter, and returns how long it took.
func recordScatter(t testing.TB, db *DB, runID string, n int) time.Duration {
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- db.PutAttempt(ctx, scatterAttempt(runID, i)) })
	}
	wg.Wait()
	elapsed := time.Since(t0)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return elapsed
}

func scatterAttempt(runID string, i int) *Attempt {
	now := time.Now()
	return &Attempt{
		RunID: runID, Job: fmt.Sprintf("main/align/%d", i), StepID: "align", ScatterIndex: i, Attempt: 1,
		State: StepSucceeded, Tool: "/wf/align.cwl", Started: now, Finished: now,
		CommandLine: []string{"bwa", "mem", "-t", "4", "/ref/genome.fa", fmt.Sprintf("/data/sample%d.fq", i)},
		Env:         map[string]string{"PATH": "/usr/bin:/bin", "HOME": "/home/ana"},
		Used:        []FileRef{{Path: fmt.Sprintf("/data/sample%d.fq", i), SHA1: fmt.Sprintf("sha1$%040x", i), Size: 1 << 20}},
		Generated:   []FileRef{{Path: fmt.Sprintf("/work/align/%d/out.bam", i), SHA1: fmt.Sprintf("sha1$%040x", i+1<<20), Size: 1 << 19}},
	}
}

func TestDefaultPath(t *testing.T) {
	home, data := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", data)
	if p, err := DefaultPath(); err != nil || p != filepath.Join(data, "flow", "flow.db") {
		t.Errorf("with XDG_DATA_HOME set, DefaultPath = %q, %v", p, err)
	}
	t.Setenv("XDG_DATA_HOME", "relative/dir") // the XDG spec says to ignore it
	p, err := DefaultPath()
	if err != nil || p != filepath.Join(home, ".local", "share", "flow", "flow.db") {
		t.Errorf("without a usable XDG_DATA_HOME, DefaultPath = %q, %v", p, err)
	}
	if st, err := os.Stat(filepath.Dir(p)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the database directory is %v, %v; want it made, private to the user", st, err)
	}
}
