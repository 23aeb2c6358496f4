package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors/local"
	"github.com/flow-cwl/flow/provenance"
)

// hookedRun runs doc with a cache and store in dir, beforeSum (if not
// nil) called before the cache asks for a file's checksum, and relocates
// the outputs into outdir.
func hookedRun(t *testing.T, dir, doc, outdir string, inputs map[string]any, beforeSum func(string)) map[string]any {
	t.Helper()
	store, err := provenance.OpenShared(filepath.Join(dir, "flow.db"), provenance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ex, _ := local.New(local.Options{Logger: zerolog.Nop()})
	e, err := New(Options{Executor: ex, Log: zerolog.Nop(), WorkDir: filepath.Join(dir, "work"), Store: store, RunID: filepath.Base(outdir),
		Cache: &Cache{Dir: filepath.Join(dir, "cache"), Store: store, testBeforeSum: beforeSum}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := e.Run(ctx, loadDoc(t, doc), inputs)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := e.Relocate(ctx, out, outdir)
	if err != nil {
		t.Fatal(err)
	}
	return moved
}

// waitForKeptOutputs returns a hook for hookedRun that holds the first
// hash of the file at big until the job's outputs are being kept, waiting
// for their key in the cache under dir: a hash that the job, or the
// keeping of its outputs, waited for would wait there for ever, and after
// a minute heldBack says so.
func waitForKeptOutputs(dir, big string) (hook func(path string), heldBack *atomic.Bool) {
	var seen atomic.Bool
	heldBack = new(atomic.Bool)
	hook = func(path string) {
		if path != big || seen.Load() {
			return
		}
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if waiting, _ := filepath.Glob(filepath.Join(dir, "cache", ".incoming", "*")); len(waiting) > 0 {
				seen.Store(true)
				return
			}
		}
		heldBack.Store(true)
	}
	return hook, heldBack
}

const countingTool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo x >> "$0"; wc -c < "$1"']
inputs:
  counter: {type: string, inputBinding: {position: 1}}
  big: {type: File, inputBinding: {position: 2}}
outputs: {out: stdout}
`

// A big input no run has hashed yet does not hold its job back when the
// cache holds no entry of the job's shape (tool, names, sizes): no entry
// could match, so the job starts while the input is hashed, its outputs
// are copied into the cache meanwhile, and saved under the whole key once
// the hash is done. A re-run
// reuses them; so does one after the input was touched (same bytes, a
// new identity), which the shape now in the cache makes hash first.
func TestJobStartsWhileItsBigInputIsHashed(t *testing.T) {
	dir := t.TempDir()
	counter, big := filepath.Join(dir, "ran"), filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, []byte(strings.Repeat("a", 3<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"counter": counter, "big": map[string]any{"class": "File", "path": big}}
	waitForJob, heldBack := waitForKeptOutputs(dir, big)
	first := hookedRun(t, dir, countingTool, filepath.Join(dir, "o1"), in, waitForJob)
	if heldBack.Load() {
		t.Fatal("the job and the keeping of its outputs did not go ahead while its big input was hashed")
	}
	if got := strings.TrimSpace(readOutput(t, first["out"])); got != "3145728" {
		t.Fatalf("output %q, want 3145728", got)
	}
	ents, _ := filepath.Glob(filepath.Join(dir, "cache", "*", "*"))
	t.Logf("entries %v", ents)
	var hashedBeforeJob atomic.Bool
	noteOrder := func(path string) {
		if path == big {
			if _, err := os.Stat(counter); err != nil || runs(t, counter) < 2 {
				hashedBeforeJob.Store(true)
			}
		}
	}
	hookedRun(t, dir, countingTool, filepath.Join(dir, "o2"), in, noteOrder)
	if n := runs(t, counter); n != 1 {
		t.Fatalf("an unchanged re-run ran the tool %d times in all, want 1 (reused)", n)
	}
	now := time.Now()
	if err := os.Chtimes(big, now, now); err != nil {
		t.Fatal(err)
	}
	hashedBeforeJob.Store(false)
	hookedRun(t, dir, countingTool, filepath.Join(dir, "o3"), in, noteOrder)
	if n := runs(t, counter); n != 1 {
		t.Errorf("a re-run over the touched input ran the tool %d times in all, want 1 (reused)", n)
	}
	if !hashedBeforeJob.Load() {
		t.Errorf("the touched input was not hashed before its job would start")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "cache", ".incoming", "*"))
	if len(leftovers) != 0 {
		t.Errorf("outputs left waiting for their key: %v", leftovers)
	}
}

// A re-run into the --outdir of an earlier run leaves an output that is
// as that run delivered it where it is (no byte written), and replaces one
// the user changed, even with its size and modification time restored.
func TestRerunLeavesAnUnchangedOutputInPlace(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "ran")
	doc := bigOutputTool
	in := map[string]any{"counter": counter}
	outdir := filepath.Join(dir, "o")
	want := readOutput(t, cachedRun(t, dir, doc, filepath.Join(dir, "first"), in)["out"])
	path := cachedRun(t, dir, doc, outdir, in)["out"].(map[string]any)["path"].(string)
	delivered := stat(t, path)
	again := cachedRun(t, dir, doc, outdir, in)["out"].(map[string]any)
	if runs(t, counter) != 1 {
		t.Fatalf("the tool ran %d times, want 1 (reused)", runs(t, counter))
	}
	if again["path"] != path || !os.SameFile(delivered, stat(t, path)) {
		t.Errorf("the unchanged output %s was written again", path)
	}
	changeBehindRestoredTimes(t, path, 1000, 'b')
	fixed := cachedRun(t, dir, doc, outdir, in)["out"]
	if readOutput(t, fixed) != want {
		t.Errorf("the output the user changed was left changed")
	}
	if os.SameFile(delivered, stat(t, path)) {
		t.Errorf("the changed output was not replaced")
	}
}

// Outputs a killed flow left waiting for their key are removed by the
// next flow on the host that keeps outputs that way; those of a flow
// still running are not.
func TestKilledFlowsWaitingOutputsAreSwept(t *testing.T) {
	dir := t.TempDir()
	incoming := filepath.Join(dir, "cache", ".incoming")
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	host = strings.ReplaceAll(host, "-", "_")
	dead := filepath.Join(incoming, fmt.Sprintf("%s@%d-1", host, gone.Process.Pid))
	alive := filepath.Join(incoming, fmt.Sprintf("%s@%d-2", host, os.Getppid()))
	for _, d := range []string{dead, alive} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "output"), []byte("partial"), 0o644)
	}
	big := filepath.Join(dir, "big.bin")
	os.WriteFile(big, []byte(strings.Repeat("a", 2<<20)), 0o644)
	in := map[string]any{"counter": filepath.Join(dir, "ran"), "big": map[string]any{"class": "File", "path": big}}
	hookedRun(t, dir, countingTool, filepath.Join(dir, "o"), in, nil)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("what a killed flow left is still there (%v)", err)
	}
	if _, err := os.Stat(alive); err != nil {
		t.Errorf("a running flow's outputs were swept: %v", err)
	}
}

// The same holds for a big file inside an input Directory.
func TestJobStartsWhileItsInputDirectoryIsHashed(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	big := filepath.Join(data, "big.bin")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, []byte(strings.Repeat("a", 3<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	waitForOutputs, heldBack := waitForKeptOutputs(dir, big)
	out := hookedRun(t, dir, `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'wc -c < "$0/big.bin"']
inputs: {d: {type: Directory, inputBinding: {position: 1}}}
outputs: {out: stdout}
`, filepath.Join(dir, "o"), map[string]any{"d": map[string]any{"class": "Directory", "path": data}}, waitForOutputs)
	if heldBack.Load() {
		t.Fatal("the job and the keeping of its outputs did not go ahead while the big file in its input directory was hashed")
	}
	if got := strings.TrimSpace(readOutput(t, out["out"])); got != "3145728" {
		t.Fatalf("output %q, want 3145728", got)
	}
}
