package engine

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors/local"
)

// TestProgressEventsAndSkippedSteps runs a workflow with a 3-way scatter
// whose when is false for one job, and a step whose when is false: the
// progress hook hears of each, and the log calls the second step
// skipped, not done.
func TestProgressEventsAndSkippedSteps(t *testing.T) {
	doc := `cwlVersion: v1.2
class: Workflow
requirements: {InlineJavascriptRequirement: {}, ScatterFeatureRequirement: {}}
inputs: {ns: 'int[]'}
outputs: {}
steps:
  echo:
    scatter: n
    in: {n: ns}
    when: $(inputs.n != 2)
    out: []
    run:
      class: CommandLineTool
      baseCommand: "true"
      inputs: {n: int}
      outputs: {}
  never:
    in: {ns: ns}
    when: $(inputs.ns.length == 0)
    out: []
    run:
      class: CommandLineTool
      baseCommand: "true"
      inputs: {ns: 'int[]'}
      outputs: {}
`
	ex, err := local.New(local.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	var mu sync.Mutex
	count := map[ProgressKind]int{}
	var done []ProgressEvent
	e, err := New(Options{Executor: ex, Log: zerolog.New(zerolog.SyncWriter(&log)), WorkDir: t.TempDir(), Progress: func(ev ProgressEvent) {
		mu.Lock()
		defer mu.Unlock()
		count[ev.Kind]++
		if ev.Kind == StepDone {
			done = append(done, ev)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Run(context.Background(), loadDoc(t, doc), map[string]any{"ns": []any{int64(1), int64(2), int64(3)}}); err != nil {
		t.Fatal(err)
	}
	want := map[ProgressKind]int{WorkflowStarted: 1, StepStarted: 2, StepDone: 2, JobStarted: 2, JobEnded: 2, JobDone: 3}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d events of kind %d, want %d (all: %v)", count[k], k, n, count)
		}
	}
	for _, ev := range done {
		switch {
		case ev.Name == "main/echo" && (ev.Jobs != 3 || ev.Skipped != 1),
			ev.Name == "main/never" && (ev.Jobs != 1 || ev.Skipped != 1):
			t.Errorf("StepDone %+v", ev)
		}
	}
	lines := log.String()
	for _, want := range []string{
		`"step":"main/never","message":"step skipped: when is false"`,
		`"step":"main/echo","skipped":1,"message":"step done"`,
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("the log lacks %s:\n%s", want, lines)
		}
	}
	if strings.Contains(lines, `"step":"main/never","message":"step done"`) {
		t.Errorf("a skipped step is logged as done:\n%s", lines)
	}
}
