package provenance

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// nested is a value n arrays deep with leaf at the bottom.
func nested(n int, leaf any) any {
	v := leaf
	for range n {
		v = []any{v}
	}
	return v
}

// Inputs deeper than encoding/json decodes (10,000 levels) are stored and
// read back whole, and do not keep the other runs from being listed.
func TestDeepValuesRoundTrip(t *testing.T) {
	db := openTestDB(t)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ok := &Run{ID: newRunID(t0), Workflow: "/wf/a.cwl", State: RunSucceeded, Started: t0,
		Inputs: map[string]any{"n": int64(3)}}
	inputs := map[string]any{
		"deep":    nested(20000, int64(7)),
		"ratio":   0.5,
		"big":     int64(1) << 62,
		"nul":     "\x00sha256:not-a-reference", // a user's string that looks like one of flow's
		"nulnul":  "\x00\x00x",
		"long":    strings.Repeat("ab", 10000),
		"nothing": nil,
		"flags":   []any{true, false},
	}
	deep := &Run{ID: newRunID(t0.Add(time.Minute)), Workflow: "/wf/b.cwl", State: RunFailed, Started: t0.Add(time.Minute),
		Inputs: inputs, Outputs: map[string]any{"echo": inputs["deep"]}}
	for _, r := range []*Run{ok, deep} {
		if err := db.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := db.ListRuns(ctx, 100, "")
	if err != nil {
		t.Fatalf("listing beside a deeply nested input: %v", err)
	}
	if len(runs) != 2 || runs[0].ID != deep.ID || runs[0].State != RunFailed || runs[1].ID != ok.ID {
		t.Fatalf("ListRuns gave %+v", runs)
	}
	if !reflect.DeepEqual(runs[1].Inputs, ok.Inputs) {
		t.Errorf("a small run's inputs in a listing: %v, want %v", runs[1].Inputs, ok.Inputs)
	}
	got, err := db.GetRun(ctx, deep.ID)
	if err != nil {
		t.Fatalf("GetRun of the deep run: %v", err)
	}
	if !reflect.DeepEqual(got.Inputs, inputs) || !reflect.DeepEqual(got.Outputs, deep.Outputs) {
		t.Errorf("the deep run's values did not come back as they were stored")
	}
}

// A record that cannot be decoded is listed as damaged, by its ID, and
// the runs around it are listed as ever.
func TestDamagedRunRecordIsListed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	before, after := newRunID(t0), newRunID(t0.Add(2*time.Minute))
	bad := newRunID(t0.Add(time.Minute))
	for _, id := range []string{before, after} {
		if err := db.CreateRun(ctx, &Run{ID: id, State: RunSucceeded, Started: t0}); err != nil {
			t.Fatal(err)
		}
	}
	// What a flow before packed values wrote for a deeply nested input.
	deepJSON := `{"id":"` + bad + `","state":"failed","inputs":{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`
	err = db.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).Put([]byte(bad), []byte(deepJSON))
	})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := db.ListRuns(ctx, 100, "")
	if err != nil {
		t.Fatalf("a damaged record stopped the listing: %v", err)
	}
	if len(runs) != 3 || runs[0].ID != after || runs[1].ID != bad || runs[2].ID != before {
		t.Fatalf("ListRuns gave %+v", runs)
	}
	if runs[1].State != RunDamaged || !strings.HasPrefix(runs[1].Error, "damaged: ") {
		t.Errorf("the damaged record is listed as %q, %q", runs[1].State, runs[1].Error)
	}
	if _, err := db.GetRun(ctx, bad); err == nil || !strings.Contains(err.Error(), "damaged") || strings.Contains(err.Error(), "\n") {
		t.Errorf("GetRun of the damaged record: %v, want one line saying it is damaged", err)
	}
	if _, err := db.GetRun(ctx, before); err != nil {
		t.Errorf("GetRun of a sound record beside a damaged one: %v", err)
	}
}

// randomString is n bytes of incompressible text.
func randomString(t testing.TB, n int) string {
	b := make([]byte, n*3/4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func fileSize(t testing.TB, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// A 50 MB input, recorded as a run's does (created, updated with its
// inputs, finished with outputs that repeat it, by a job whose outputs
// repeat it too), grows the file by about its size, not a multiple.
func TestLargeValueStoredOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 50 MB")
	}
	path := filepath.Join(t.TempDir(), "flow.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	warm := &Run{ID: newRunID(t0.Add(-time.Hour)), State: RunSucceeded, Started: t0, Inputs: map[string]any{"name": "x"}}
	if err := db.CreateRun(ctx, warm); err != nil {
		t.Fatal(err)
	}
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	start := fileSize(t, path)

	const size = 50 << 20
	big := randomString(t, size)
	r := &Run{ID: newRunID(t0), State: RunRunning, Started: t0}
	if err := db.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Inputs = map[string]any{"name": big}
	if err := db.UpdateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{"echoed": map[string]any{"name": big}}
	if err := db.PutAttempt(ctx, &Attempt{RunID: r.ID, Job: "main", ScatterIndex: -1, Attempt: 1, State: StepSucceeded, Outputs: out}); err != nil {
		t.Fatal(err)
	}
	r.State, r.Outputs, r.Finished = RunSucceeded, out, time.Now()
	if err := db.UpdateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	grew := fileSize(t, path) - start
	t.Logf("a %d MB input grew flow.db by %.1f MB", size>>20, float64(grew)/(1<<20))
	if grew > size*11/10+(1<<20) {
		t.Errorf("a %d-byte input grew the database by %d bytes; want about its size", size, grew)
	}
	got, err := db.GetRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Inputs["name"] != big {
		t.Errorf("the large input did not come back as it was")
	}
	start0 := time.Now()
	runs, err := db.ListRuns(ctx, 100, "")
	if err != nil || len(runs) != 2 {
		t.Fatalf("ListRuns: %d runs, %v", len(runs), err)
	}
	t.Logf("listing beside it took %s", time.Since(start0))
}

// A database written before packed values (schema version 1) is read as
// it was, and a writer opening it upgrades its version.
func TestReadsSchemaVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 19, 36, 0, 0, time.UTC)
	id := newRunID(t0)
	runJSON := fmt.Sprintf(`{"id":%q,"workflow":"/wf/old.cwl","inputs":{"n":3,"r":0.5,"s":"\u0000x"},"outputs":{"o":{"class":"File","path":"/out/o"}},"state":"succeeded","started":"2026-11-21T19:36:00Z"}`, id)
	attJSON := fmt.Sprintf(`{"run_id":%q,"job":"main/a","scatter_index":-1,"attempt":1,"state":"succeeded","outputs":{"k":[1,2]}}`, id)
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketRuns, bucketAttempts, bucketGenerated, bucketPaths, bucketCache} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, 1)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRuns).Put([]byte(id), []byte(runJSON)); err != nil {
			return err
		}
		return tx.Bucket(bucketAttempts).Put(attemptKey(id, "main/a", 1), []byte(attJSON))
	})
	if err != nil {
		t.Fatal(err)
	}
	bdb.Close()

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("opening a version 1 file read-only: %v", err)
	}
	r, err := ro.GetRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": int64(3), "r": 0.5, "s": "\x00x"}
	if !reflect.DeepEqual(r.Inputs, want) || r.Outputs["o"] == nil {
		t.Errorf("a version 1 run reads back with inputs %#v, outputs %v", r.Inputs, r.Outputs)
	}
	atts, err := ro.Attempts(ctx, id)
	if err != nil || len(atts) != 1 || !reflect.DeepEqual(atts[0].Outputs, map[string]any{"k": []any{int64(1), int64(2)}}) {
		t.Errorf("a version 1 attempt reads back as %+v, %v", atts, err)
	}
	ro.Close()

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version uint64
	db.db.View(func(tx *bolt.Tx) error {
		version = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchemaVersion))
		return nil
	})
	if version != schemaVersion {
		t.Errorf("after a writer opened it, the file has schema version %d, want %d", version, schemaVersion)
	}
	if r, err := db.GetRun(ctx, id); err != nil || r.Inputs["n"] != int64(3) {
		t.Errorf("the upgraded file's run: %+v, %v", r, err)
	}
}

// BenchmarkListRuns100 lists 100 recorded runs, as `flow runs -n 100`
// does; the runs' inputs include a large value each, which a listing
// leaves in the values bucket.
func BenchmarkListRuns100(b *testing.B) {
	db := openTestDB(b)
	t0 := time.Now()
	big := randomString(b, 1<<20)
	for i := range 100 {
		r := &Run{ID: newRunID(t0.Add(time.Duration(i) * time.Second)), Workflow: "/wf/main.cwl", State: RunSucceeded,
			Started: t0, Inputs: map[string]any{"i": int64(i), "reads": map[string]any{"class": "File", "path": "/data/r.fq"}, "notes": big + fmt.Sprint(i)},
			Outputs: map[string]any{"out": map[string]any{"class": "File", "path": "/out/o.txt", "checksum": "sha1$0"}}}
		if err := db.CreateRun(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		runs, err := db.ListRuns(ctx, 100, "")
		if err != nil || len(runs) != 100 {
			b.Fatalf("%d runs, %v", len(runs), err)
		}
	}
}
