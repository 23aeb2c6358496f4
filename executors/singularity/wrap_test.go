package singularity

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/flow-cwl/flow/executors"
)

// recorder is an inner executor that keeps the tasks it is given.
type recorder struct {
	mu    sync.Mutex
	tasks []*executors.Task
}

func (r *recorder) Name() string { return "rec" }
func (r *recorder) Capabilities() executors.Capabilities {
	return executors.Capabilities{SharedFS: true}
}
func (r *recorder) Start(_ context.Context, t *executors.Task) (*executors.Handle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks = append(r.tasks, t)
	return &executors.Handle{Executor: "rec", TaskID: t.ID}, nil
}
func (r *recorder) Wait(context.Context, *executors.Handle) (executors.Result, error) {
	return executors.Result{}, nil
}
func (r *recorder) Cancel(context.Context, *executors.Handle) error  { return nil }
func (r *recorder) Recover(context.Context, *executors.Handle) error { return nil }

type batchRecorder struct{ recorder }

func (r *batchRecorder) StartBatch(ctx context.Context, ts []*executors.Task) ([]*executors.Handle, error) {
	var hs []*executors.Handle
	for _, t := range ts {
		h, _ := r.Start(ctx, t)
		hs = append(hs, h)
	}
	return hs, nil
}

func TestWrapPassesTasksWithoutImage(t *testing.T) {
	rec := &recorder{}
	ex := Wrap(rec, modern)
	tk := &executors.Task{ID: "x", Argv: []string{"true"}, Dir: "/d", Env: map[string]string{"A": "b"}}
	if _, err := ex.Start(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	if rec.tasks[0] != tk {
		t.Errorf("a task without an image was changed: %+v", rec.tasks[0])
	}
	if c := ex.Capabilities(); !c.Containers || !c.SharedFS {
		t.Errorf("Capabilities = %+v, want inner's plus Containers", c)
	}
	if ex.Name() != "rec" {
		t.Errorf("Name = %q, want the inner executor's", ex.Name())
	}
	if _, ok := ex.(executors.BatchStarter); ok {
		t.Error("Wrap of an executor without StartBatch offers StartBatch")
	}
}

func TestWrapRewritesContainerTasks(t *testing.T) {
	t.Setenv("FLOW_SECRET_TEST", "1")
	t.Setenv("APPTAINERENV_INJECTED", "1")
	t.Setenv("APPTAINER_CACHEDIR", "/cache")
	rec := &recorder{}
	ex := Wrap(rec, modern)
	tk := cwlTask()
	tk.Stdin = "/var/lib/cwl/stg1/data.txt" // absolute, in a read-only mount
	tk.Stdout = "out.txt"                   // relative to Dir
	tk.Stderr = "/tmp/err.txt"
	orig := *tk
	if _, err := ex.Start(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	got := rec.tasks[0]
	if got.Dir != "/host/out" || got.Argv[0] != modern.Path || got.Image != "" || got.Mounts != nil {
		t.Errorf("host task: dir %q argv %q image %q mounts %v", got.Dir, got.Argv, got.Image, got.Mounts)
	}
	if got.Stdin != "/host/in/data.txt" || got.Stdout != "/host/out/out.txt" || got.Stderr != "/host/tmp/err.txt" {
		t.Errorf("streams: %q %q %q; want them at their host paths", got.Stdin, got.Stdout, got.Stderr)
	}
	if got.Env["APPTAINER_CACHEDIR"] != "/cache" {
		t.Errorf("the runtime lost its own settings: %v", got.Env)
	}
	for _, k := range []string{"FLOW_SECRET_TEST", "APPTAINERENV_INJECTED", "TMPDIR_NOT_SET"} {
		if _, ok := got.Env[k]; ok {
			t.Errorf("the runtime's environment holds %s: %v", k, got.Env)
		}
	}
	if tk.Dir != orig.Dir || tk.Image != orig.Image || tk.Stdout != orig.Stdout || len(tk.Mounts) != len(orig.Mounts) {
		t.Errorf("Start changed the caller's task: %+v", tk)
	}
}

func TestWrapRefusesStreamsItCannotPlace(t *testing.T) {
	for name, set := range map[string]func(*executors.Task){
		"stdout outside mounts":    func(tk *executors.Task) { tk.Stdout = "/nowhere/out" },
		"stdout escaping Dir":      func(tk *executors.Task) { tk.Stdout = "../../../out" },
		"stderr in read-only file": func(tk *executors.Task) { tk.Stderr = "/var/lib/cwl/stg1/data.txt" },
	} {
		tk := cwlTask()
		set(tk)
		rec := &recorder{}
		if _, err := Wrap(rec, modern).Start(context.Background(), tk); err == nil || !strings.Contains(err.Error(), tk.ID) {
			t.Errorf("%s: err = %v, want a refusal naming the task", name, err)
		}
		if len(rec.tasks) != 0 {
			t.Errorf("%s: the inner executor was given the task", name)
		}
	}
}

func TestWrapForwardsBatches(t *testing.T) {
	rec := &batchRecorder{}
	bs, ok := Wrap(rec, modern).(executors.BatchStarter)
	if !ok {
		t.Fatal("Wrap of a BatchStarter is not one")
	}
	plain := &executors.Task{ID: "plain", Argv: []string{"true"}, Dir: "/d"}
	hs, err := bs.StartBatch(context.Background(), []*executors.Task{cwlTask(), plain})
	if err != nil || len(hs) != 2 {
		t.Fatalf("StartBatch: %v, %v", hs, err)
	}
	if rec.tasks[0].Argv[0] != modern.Path || rec.tasks[1] != plain {
		t.Errorf("batch given to inner: %q, %+v", rec.tasks[0].Argv, rec.tasks[1])
	}
	bad := cwlTask()
	bad.Mounts[0].Source = "/a:b"
	if _, err := bs.StartBatch(context.Background(), []*executors.Task{cwlTask(), bad}); err == nil {
		t.Error("a batch with an impossible task was started")
	}
}

// A runtime that runs in a job sandbox gets the sandbox's /proc, and its
// host task names every host path it needs, each at its own path, for a
// sandbox that shows nothing else.
func TestWrapNamesWhatASandboxedRuntimeNeeds(t *testing.T) {
	rec := &recorder{}
	rt := Runtime{Path: "/opt/singularity/bin/singularity", Name: "singularity", Version: "4.5.1", Sandboxed: true}
	if _, err := Wrap(rec, rt).Start(context.Background(), cwlTask()); err != nil {
		t.Fatal(err)
	}
	got := rec.tasks[0]
	if argv := strings.Join(got.Argv, " "); !strings.Contains(argv, " --no-mount proc --bind /proc:/proc ") {
		t.Errorf("argv %q does not give the container the sandbox's /proc", argv)
	}
	want := map[string]bool{"/host/in/data.txt": false, "/host/out": true, "/host/tmp": true,
		"/images/busybox.sif": false, "/opt/singularity": false, "/sys": false}
	for _, m := range got.Mounts {
		writable, ok := want[m.Source]
		if !ok || m.Target != m.Source || m.Writable != writable {
			t.Errorf("mount %+v: want only %v, each at its own path", m, want)
		}
		delete(want, m.Source)
	}
	if len(want) > 0 {
		t.Errorf("the host task lacks mounts for %v", want)
	}
}
