package provenance

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openTestDB opens a fresh database file in a temporary directory and
// closes it when the test ends.
func openTestDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "flow.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// writeFile writes content to dir/name and returns its FileRef.
func writeFile(t testing.TB, dir, name, content string) FileRef {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, size, err := hashFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return FileRef{Path: p, SHA1: sum, Size: size}
}

func cwlFileValue(f FileRef) map[string]any {
	return map[string]any{"class": "File", "location": "file://" + f.Path, "checksum": f.SHA1, "size": f.Size}
}

// chain is a recorded three-step run on real files:
//
//	reads.fq ─trim→ trimmed.fq ─┐
//	                 ref.fa ────┴─count→ counts.tsv ─report→ out/report.txt
type chain struct {
	db                                  *DB
	dir                                 string
	run                                 *Run
	reads, ref, trimmed, counts, report FileRef
	trimAtt, countAtt, reportAtt        *Attempt
}

func buildChain(t *testing.T) *chain {
	t.Helper()
	ctx := context.Background()
	c := &chain{db: openTestDB(t), dir: t.TempDir()}
	wf := writeFile(t, c.dir, "wf/pipeline.cwl", "cwlVersion: v1.2\nclass: Workflow\n")
	c.reads = writeFile(t, c.dir, "data/reads.fq", "@r1\nACGTACGT\n+\nIIIIIIII\n")
	c.ref = writeFile(t, c.dir, "data/ref.fa", ">chr1\nACGT\n")
	c.trimmed = writeFile(t, c.dir, "work/trim/trimmed.fq", "@r1\nACGT\n+\nIIII\n")
	c.counts = writeFile(t, c.dir, "work/count/counts.tsv", "chr1\t1\n")
	c.report = writeFile(t, c.dir, "out/report.txt", "1 read on chr1\n")

	start := time.Date(2026, 11, 21, 19, 36, 0, 0, time.UTC)
	c.run = &Run{
		ID: newRunID(start), Workflow: wf.Path + "#main", State: RunSucceeded,
		Inputs:  map[string]any{"reads": cwlFileValue(c.reads), "reference": cwlFileValue(c.ref), "min_quality": int64(20)},
		Outputs: map[string]any{"report": cwlFileValue(c.report)},
		Started: start, Finished: start.Add(time.Minute), User: "ana", Host: "laptop", FlowVersion: "0.1.0", Executor: "local",
	}
	if err := c.db.CreateRun(ctx, c.run); err != nil {
		t.Fatal(err)
	}
	step := func(name string, at time.Duration, used []FileRef, made FileRef, argv ...string) *Attempt {
		a := &Attempt{RunID: c.run.ID, Job: "main/" + name, StepID: name, ScatterIndex: -1, Attempt: 1,
			State: StepSucceeded, Tool: wf.Path + "#" + name + "_tool", CommandLine: argv,
			Env: map[string]string{"LC_ALL": "C"}, Started: start.Add(at), Finished: start.Add(at + 10*time.Second),
			Host: "laptop", Used: used, Generated: []FileRef{made}}
		if err := c.db.PutAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	c.trimAtt = step("trim", 0, []FileRef{c.reads}, c.trimmed, "trimmer", "-q", "20", c.reads.Path)
	c.countAtt = step("count", 15*time.Second, []FileRef{c.trimmed, c.ref}, c.counts, "counter", c.trimmed.Path, c.ref.Path)
	c.reportAtt = step("report", 30*time.Second, []FileRef{c.counts}, c.report, "reporter", "--title", "my report", c.counts.Path)
	if err := c.db.RecordFiles(ctx, c.run.ID, []FileRef{c.report}); err != nil {
		t.Fatal(err)
	}
	return c
}
