package provenance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestLineageFollowsAThreeStepChainToTheInputs(t *testing.T) {
	c := buildChain(t)
	root, err := Lineage(ctx, c.db, c.report.Path, LineageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// report.txt ← report(counts.tsv) ← count(trimmed.fq ← trim(reads.fq), ref.fa)
	if root.File != c.report || root.Attempt == nil || root.Attempt.StepID != "report" || root.Run == nil || root.Run.ID != c.run.ID {
		t.Fatalf("root = %+v, want report.txt made by step report of run %s", root, c.run.ID)
	}
	counts := only(t, root.Inputs)
	if counts.File != c.counts || counts.Attempt.StepID != "count" || len(counts.Inputs) != 2 {
		t.Fatalf("report's input = %+v, want counts.tsv made by step count from two files", counts)
	}
	ref, trimmed := counts.Inputs[0], counts.Inputs[1] // sorted by path: data/ref.fa < work/trim/trimmed.fq
	if ref.File != c.ref || ref.Attempt != nil || len(ref.Inputs) != 0 {
		t.Errorf("ref.fa = %+v, want a workflow input", ref)
	}
	if trimmed.File != c.trimmed || trimmed.Attempt.StepID != "trim" {
		t.Fatalf("counts' other input = %+v, want trimmed.fq made by trim", trimmed)
	}
	if reads := only(t, trimmed.Inputs); reads.File != c.reads || reads.Attempt != nil {
		t.Errorf("trimmed.fq's input = %+v, want reads.fq as a workflow input", reads)
	}

	var out strings.Builder
	if err := WriteLineageText(&out, root); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log("\n" + text)
	for _, want := range []string{
		c.report.Path + "\n",
		"made by run " + c.run.ID + ", step report (job main/report, attempt 1)",
		"command: reporter --title 'my report' " + c.counts.Path,
		"\n    " + c.counts.Path + "\n", // indented under report's "from:"
		"\n            " + c.reads.Path + "\n",
		"a workflow input: no recorded step made it",
		"succeeded 2026-11-21 19:36:40 UTC after 10s on laptop",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("lineage text lacks %q", want)
		}
	}
	if n := strings.Count(text, "workflow "+c.run.Workflow); n != 1 {
		t.Errorf("the workflow is named %d times, want once for the one run", n)
	}
}

func only(t *testing.T, nodes []*LineageNode) *LineageNode {
	t.Helper()
	if len(nodes) != 1 {
		t.Fatalf("got %d inputs, want 1", len(nodes))
	}
	return nodes[0]
}

func TestLineageOfACopyFindsTheMakerByContent(t *testing.T) {
	c := buildChain(t)
	copyPath := filepath.Join(t.TempDir(), "sent-to-collaborator.txt")
	data, _ := os.ReadFile(c.report.Path)
	if err := os.WriteFile(copyPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Lineage(ctx, c.db, copyPath, LineageOptions{}); err == nil || !strings.Contains(err.Error(), "--by-content") {
		t.Errorf("lineage by path of a file no run wrote there gave %v, want a pointer to --by-content", err)
	}
	root, err := Lineage(ctx, c.db, copyPath, LineageOptions{ByContent: true})
	if err != nil {
		t.Fatal(err)
	}
	if root.Attempt == nil || root.Attempt.StepID != "report" || root.File.SHA1 != c.report.SHA1 {
		t.Fatalf("lineage of a copy = %+v, want the report step", root)
	}
	if _, err := Lineage(ctx, c.db, filepath.Join(t.TempDir(), "never-existed"), LineageOptions{ByContent: true}); err == nil ||
		!strings.Contains(err.Error(), "flow has no record of") {
		t.Errorf("lineage of an unknown, missing file gave %v", err)
	}
}

func TestLineageEndsCycles(t *testing.T) {
	db := openTestDB(t)
	a := FileRef{Path: "/x/a", SHA1: "sha1$aa", Size: 1}
	b := FileRef{Path: "/x/b", SHA1: "sha1$bb", Size: 1}
	t0 := time.Now()
	// Run 1 made b from a; run 2 made a (the same bytes) from b.
	for _, at := range []*Attempt{
		{RunID: "r1", Job: "j", StepID: "fwd", Attempt: 1, State: StepSucceeded, Started: t0, Used: []FileRef{a}, Generated: []FileRef{b}},
		{RunID: "r2", Job: "j", StepID: "back", Attempt: 1, State: StepSucceeded, Started: t0.Add(time.Hour), Used: []FileRef{b}, Generated: []FileRef{a}},
	} {
		if err := db.PutAttempt(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	root, err := Lineage(ctx, db, a.Path, LineageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bNode := only(t, root.Inputs)
	again := only(t, bNode.Inputs)
	if again.File.SHA1 != a.SHA1 || !again.Repeated || len(again.Inputs) != 0 {
		t.Fatalf("the cycle a←b←a was not cut: %+v", again)
	}
	var out strings.Builder
	_ = WriteLineageText(&out, root)
	if !strings.Contains(out.String(), "(its lineage is shown above)") {
		t.Errorf("the text does not say where the repeated file is explained:\n%s", out.String())
	}
}

func TestGroupCommitIsolatesAFailingWrite(t *testing.T) {
	db := openTestDB(t)
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Go(func() {
			a := scatterAttempt("iso", i)
			if i == 50 {
				a.Job = strings.Repeat("j", 40_000) // longer than bbolt's largest key
			}
			errs[i] = db.PutAttempt(ctx, a)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 50) != (err != nil) {
			t.Errorf("write %d: err = %v", i, err)
		}
	}
	if atts, _ := db.Attempts(ctx, "iso"); len(atts) != 99 {
		t.Errorf("recorded %d attempts, want the 99 good ones", len(atts))
	}
}

func TestCommandLinesPrintOnOneLine(t *testing.T) {
	cases := map[string][]string{
		`tr -s ' ' $'\n'`:     {"tr", "-s", " ", "\n"},
		`echo 'it'\''s'`:      {"echo", "it's"},
		`printf $'a\tb\\\'c'`: {"printf", "a\tb\\'c"},
		`cat ''`:              {"cat", ""},
	}
	for want, args := range cases {
		if got := shellJoin(args); got != want {
			t.Errorf("shellJoin(%q) = %s, want %s", args, got, want)
		}
	}
}

// Two runs make the same bytes; run A delivers them to a path that run B
// then reads. By path, the file is A's, even though B's step touched the
// path last and B made the same bytes later; by content, it is B's.
func TestLineageByPathNamesTheRunThatWroteIt(t *testing.T) {
	db := openTestDB(t)
	dir := t.TempDir()
	delivered := writeFile(t, dir, "a-out/result.txt", "same bytes\n")
	src := writeFile(t, dir, "data/in.txt", "input\n")
	cacheA := FileRef{Path: "/cache/a/result.txt", SHA1: delivered.SHA1, Size: delivered.Size}
	cacheB := FileRef{Path: "/cache/b/result.txt", SHA1: delivered.SHA1, Size: delivered.Size}
	t0 := time.Now().Add(-time.Hour)
	for _, a := range []*Attempt{
		{RunID: "runA", Job: "main/make", StepID: "make", Attempt: 1, State: StepSucceeded, Started: t0, Used: []FileRef{src}, Generated: []FileRef{cacheA}},
		{RunID: "runB", Job: "main/make", StepID: "make", Attempt: 1, State: StepSucceeded, Started: t0.Add(time.Minute), Used: []FileRef{src}, Generated: []FileRef{cacheB}},
		{RunID: "runB", Job: "main/read", StepID: "read", Attempt: 1, State: StepSucceeded, Started: t0.Add(2 * time.Minute), Used: []FileRef{delivered}},
	} {
		if err := db.PutAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.RecordFiles(ctx, "runA", []FileRef{delivered}); err != nil {
		t.Fatal(err)
	}
	// RecordFiles stamps the time of the call; runB's read must come after.
	if err := db.PutAttempt(ctx, &Attempt{RunID: "runB", Job: "main/read", StepID: "read", Attempt: 2, State: StepSucceeded,
		Started: time.Now().Add(time.Minute), Used: []FileRef{delivered}}); err != nil {
		t.Fatal(err)
	}
	var last pathRecord
	_ = db.db.View(func(tx *bolt.Tx) error {
		return json.Unmarshal(tx.Bucket(bucketPaths).Get([]byte(delivered.Path))[8:], &last)
	})
	if last.RunID != "runB" {
		t.Fatalf("setup: the paths record of the output is of run %q, want runB's read", last.RunID)
	}

	root, err := Lineage(ctx, db, delivered.Path, LineageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !root.Delivered || root.Attempt == nil || root.Attempt.RunID != "runA" || root.Run != nil && root.Run.ID != "runA" {
		t.Errorf("lineage by path names %+v, want run A's make step, delivered", root.Attempt)
	}
	byContent, err := Lineage(ctx, db, delivered.Path, LineageOptions{ByContent: true})
	if err != nil {
		t.Fatal(err)
	}
	if byContent.Attempt == nil || byContent.Attempt.RunID != "runB" {
		t.Errorf("lineage by content names %+v, want run B, the newest maker", byContent.Attempt)
	}

	// An input of run B that no step of B made is said to be so.
	in, err := Lineage(ctx, db, src.Path, LineageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := WriteLineageText(&out, in); err != nil {
		t.Fatal(err)
	}
	if in.Attempt != nil || !strings.Contains(out.String(), "no step of run runB made it") {
		t.Errorf("lineage of run B's input:\n%s", out.String())
	}
}
