package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cachedRun is hookedRun without a hook.
func cachedRun(t *testing.T, dir, doc, outdir string, inputs map[string]any) map[string]any {
	t.Helper()
	return hookedRun(t, dir, doc, outdir, inputs, nil)
}

// Outputs in --outdir are the user's own files: two runs that reuse one
// cache entry get files that share no inode with each other or with the
// cache, so appending to one run's output changes neither the other's
// nor what the cache serves next.
func TestOutputsShareNoInodeWithCacheOrOtherRuns(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "ran")
	doc := `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo x >> "$0"; echo hello']
inputs: {counter: {type: string, inputBinding: {}}}
outputs: {out: stdout}
stdout: report.tsv
`
	in := map[string]any{"counter": counter}
	first := cachedRun(t, dir, doc, filepath.Join(dir, "o1"), in)
	second := cachedRun(t, dir, doc, filepath.Join(dir, "o2"), in)
	if n := runs(t, counter); n != 1 {
		t.Fatalf("an unchanged re-run ran the tool %d times, want 1 (reused)", n)
	}
	p1 := first["out"].(map[string]any)["path"].(string)
	p2 := second["out"].(map[string]any)["path"].(string)
	cached, err := filepath.Glob(filepath.Join(dir, "cache", "*", "*", "report.tsv"))
	if err != nil || len(cached) != 1 {
		t.Fatalf("cache entries holding report.tsv: %v (%v), want one", cached, err)
	}
	st1, st2, stc := stat(t, p1), stat(t, p2), stat(t, cached[0])
	if os.SameFile(st1, st2) || os.SameFile(st1, stc) || os.SameFile(st2, stc) {
		t.Fatalf("outputs share an inode: o1 %v, o2 %v, cache %v", os.SameFile(st1, stc), os.SameFile(st2, stc), os.SameFile(st1, st2))
	}
	f, err := os.OpenFile(p1, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("appended\n")
	f.Close()
	if got := readOutput(t, second["out"]); got != "hello\n" {
		t.Errorf("appending to the first run's output changed the second run's to %q", got)
	}
	third := cachedRun(t, dir, doc, filepath.Join(dir, "o3"), in)
	if n := runs(t, counter); n != 1 {
		t.Errorf("the tool ran %d times in all, want 1: the cache entry is intact and reused", n)
	}
	if got := readOutput(t, third["out"]); got != "hello\n" {
		t.Errorf("the third run's output is %q, want the tool's real output", got)
	}
}

func stat(t *testing.T, p string) os.FileInfo {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func runs(t *testing.T, counter string) int {
	data, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "x")
}

// Identical jobs of one scatter run once; the others take the first's
// outputs from the cache, and every job gets them.
func TestIdenticalJobsRunOnce(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "ran")
	tool := filepath.Join(dir, "tool.cwl")
	os.WriteFile(tool, []byte(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo x >> "$0"; sleep 0.2; echo "$1"']
inputs: {counter: {type: string, inputBinding: {position: 1}}, word: {type: string, inputBinding: {position: 2}}}
outputs: {out: stdout}
`), 0o644)
	out := cachedRun(t, dir, `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs: {counter: string, words: "string[]"}
outputs: {outs: {type: "File[]", outputSource: s/out}}
steps:
  s: {run: `+tool+`, scatter: word, in: {counter: counter, word: words}, out: [out]}
`, filepath.Join(dir, "o"), map[string]any{"counter": counter, "words": []any{"same", "same", "same", "other", "same"}})
	if n := runs(t, counter); n != 2 {
		t.Errorf("five jobs, two distinct: the tool ran %d times, want 2", n)
	}
	files := out["outs"].([]any)
	for i, w := range []string{"same", "same", "same", "other", "same"} {
		if got := readOutput(t, files[i]); got != w+"\n" {
			t.Errorf("job %d: %q, want %q", i, got, w)
		}
	}
}

// A job that finds its cache entry held (by another job, maybe in another
// flow process) leaves that entry alone: it is in use. A free entry gets a
// copy of the job's outputs, and the job keeps its own.
func TestKeepNeverReplacesAnEntryInUse(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	entry := c.entryDir("ab" + strings.Repeat("0", 62))
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(entry, "output"), []byte("in use"), 0o644)
	mine := t.TempDir()
	os.WriteFile(filepath.Join(mine, "output"), []byte("mine"), 0o644)
	if _, err := c.keep(context.Background(), mine, entry); !errors.Is(err, errEntryTaken) {
		t.Fatalf("keep = %v, want errEntryTaken", err)
	}
	if b, _ := os.ReadFile(filepath.Join(entry, "output")); string(b) != "in use" {
		t.Errorf("the entry in use now holds %q", b)
	}
	free := c.entryDir("cd" + strings.Repeat("0", 62))
	sums, err := c.keep(context.Background(), mine, free)
	if err != nil {
		t.Fatalf("keep into a free entry: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(free, "output")); string(b) != "mine" {
		t.Errorf("the free entry holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(mine, "output")); string(b) != "mine" {
		t.Errorf("the job's own outputs are gone: %q", b)
	}
	if want, _, _ := checksumFile(context.Background(), filepath.Join(mine, "output")); sums[filepath.Join(mine, "output")].sum != want {
		t.Errorf("keep reported %v, want checksum %s", sums, want)
	}
	a, _ := os.Stat(filepath.Join(mine, "output"))
	b, _ := os.Stat(filepath.Join(free, "output"))
	if os.SameFile(a, b) {
		t.Errorf("the cache entry shares its inode with the job's output")
	}
}

// A cached output whose bytes were changed in place, with its size and
// modification time put back as they were, is not reused: its identity
// changed (the change time), so the memo, which knows the output's
// checksum from the first run, is not asked, and the file is read again.
// The step runs again and the run delivers the right bytes.
func TestCacheNoticesAnOutputChangedBehindRestoredTimes(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "ran")
	doc := bigOutputTool
	in := map[string]any{"counter": counter}
	first := cachedRun(t, dir, doc, filepath.Join(dir, "o1"), in)
	want := readOutput(t, first["out"])
	if again := cachedRun(t, dir, doc, filepath.Join(dir, "o2"), in); runs(t, counter) != 1 || readOutput(t, again["out"]) != want {
		t.Fatalf("an unchanged re-run ran the tool %d times in all, want 1 (reused)", runs(t, counter))
	}
	cached, _ := filepath.Glob(filepath.Join(dir, "cache", "*", "*", "big.txt"))
	if len(cached) != 1 {
		t.Fatalf("cache holds %v, want one big.txt", cached)
	}
	changeBehindRestoredTimes(t, cached[0], 1000, 'b')
	third := cachedRun(t, dir, doc, filepath.Join(dir, "o3"), in)
	if n := runs(t, counter); n != 2 {
		t.Errorf("after the cached output changed the tool ran %d times in all, want 2 (run again)", n)
	}
	if readOutput(t, third["out"]) != want {
		t.Errorf("the run delivered the changed bytes of the cache")
	}
}

// bigOutputTool counts its runs in the file its input names and writes
// a 2 MiB output, big enough for the memo to keep its checksum across
// runs.
const bigOutputTool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo x >> "$0"; head -c 2097152 /dev/zero | tr "\0" a > big.txt']
inputs: {counter: {type: string, inputBinding: {position: 1}}}
outputs: {out: {type: File, outputBinding: {glob: big.txt}}}
`

// changeBehindRestoredTimes writes b at off in the file at path, in place,
// and puts the file's modification time back, as a careless or hostile
// writer may: its size and modification time are as before, and only its
// change time (ctime) shows the write.
func changeBehindRestoredTimes(t *testing.T, path string, off int64, b byte) {
	t.Helper()
	before := stat(t, path)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt([]byte{b}, off)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(path, before.ModTime(), before.ModTime())
	}
	if err != nil {
		t.Fatal(err)
	}
	if after := stat(t, path); after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("the test did not restore the size and modification time")
	}
}
