package singularity

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/executortest"
	"github.com/flow-cwl/flow/executors/local"
	"github.com/flow-cwl/flow/internal/siftest"
)

// These tests run real containers: the local executor wrapped with Wrap,
// a SIF built by siftest, and siftest's runtime (a real one; the stand-in
// only where none can run, and never in CI).

const imageMarker = "flow-test-image\n"

// box is a container task's host side: its output, input and temporary
// directories, and the executor to run it with.
type box struct {
	ex            executors.Executor
	out, in, tmp  string
	task          *executors.Task
	originalInput string
}

// newBox prepares a task shaped like the engine's for a CommandLineTool:
// the output directory is HOME and the working directory, an input file is
// mounted read-only, /tmp is the task's own.
func newBox(t *testing.T, argv ...string) *box {
	t.Helper()
	return newBoxWith(t, siftest.Options{}, argv...)
}

// newBoxWith is newBox in an image built with opts, plus the marker file.
func newBoxWith(t *testing.T, opts siftest.Options, argv ...string) *box {
	t.Helper()
	rtPath := siftest.Runtime(t)
	rt, err := FindRuntime(context.Background(), rtPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("runtime: %s %s (stand-in: %v)", rt.Name, rt.Version, siftest.IsStandIn(rtPath))
	opts.Files = maps.Clone(opts.Files)
	if opts.Files == nil {
		opts.Files = map[string]string{}
	}
	opts.Files["/etc/image-name"] = imageMarker
	image := siftest.Build(t, t.TempDir(), opts)
	inner, err := local.New(local.Options{KillGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := &box{ex: Wrap(inner, rt), out: t.TempDir(), in: t.TempDir(), tmp: t.TempDir(), originalInput: "original\n"}
	if err := os.WriteFile(filepath.Join(b.in, "data.txt"), []byte(b.originalInput), 0o644); err != nil {
		t.Fatal(err)
	}
	b.task = &executors.Task{
		ID:    t.Name(),
		Argv:  argv,
		Env:   map[string]string{"PATH": "/bin:/usr/bin", "HOME": "/var/spool/cwl", "TMPDIR": "/tmp"},
		Dir:   "/var/spool/cwl",
		Image: image,
		Mounts: []executors.Mount{
			{Source: b.out, Target: "/var/spool/cwl", Writable: true},
			{Source: filepath.Join(b.in, "data.txt"), Target: "/var/lib/cwl/inputs/data.txt"},
			{Source: b.tmp, Target: "/tmp", Writable: true},
		},
	}
	return b
}

func (b *box) run(t *testing.T) executors.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := b.ex.Start(ctx, b.task)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	res, err := b.ex.Wait(ctx, h)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return res
}

// output reads a file the task wrote to its output directory.
func (b *box) output(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.out, name))
	if err != nil {
		t.Fatalf("the task's output is not on the host: %v", err)
	}
	return string(data)
}

func TestContainerOutputReachesTheHost(t *testing.T) {
	t.Parallel()
	b := newBox(t, "sh", "-c", "echo written > result.txt; echo to-stdout; cat /var/lib/cwl/inputs/data.txt >&2")
	b.task.Stdout = "stdout.txt"      // relative to Dir
	b.task.Stderr = "/tmp/stderr.txt" // absolute, in another mount
	if res := b.run(t); !res.Success() {
		t.Fatalf("%+v", res)
	}
	if got := b.output(t, "result.txt"); got != "written\n" {
		t.Errorf("result.txt holds %q", got)
	}
	if got := b.output(t, "stdout.txt"); got != "to-stdout\n" {
		t.Errorf("stdout.txt holds %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(b.tmp, "stderr.txt")); string(got) != b.originalInput {
		t.Errorf("stderr (the input read in the container) is %q, want %q", got, b.originalInput)
	}
}

func TestContainerCannotWriteReadOnlyInput(t *testing.T) {
	t.Parallel()
	b := newBox(t, "sh", "-c", "echo changed > /var/lib/cwl/inputs/data.txt")
	res := b.run(t)
	if res.Success() {
		t.Errorf("writing a read-only input succeeded: %+v", res)
	}
	if got, _ := os.ReadFile(filepath.Join(b.in, "data.txt")); string(got) != b.originalInput {
		t.Errorf("the input on the host now holds %q", got)
	}
}

func TestContainerRunsInTheTargetDirectory(t *testing.T) {
	t.Parallel()
	b := newBox(t, "pwd")
	b.task.Stdout = "pwd.txt"
	b.run(t)
	if got := b.output(t, "pwd.txt"); got != "/var/spool/cwl\n" {
		t.Errorf("pwd printed %q, want /var/spool/cwl", got)
	}
}

// The container sees the task's environment, values intact and never
// evaluated, and nothing of flow's own.
func TestContainerEnvironmentIsTheTasks(t *testing.T) {
	t.Setenv("FLOW_SECRET_TEST", "1") // before Wrap reads flow's environment
	b := newBox(t, "env")
	b.task.Env["HOSTILE"] = "$(touch /tmp/pwned) `touch /tmp/pwned2` a,b 'q' \"dq"
	b.task.Env["EMPTY"] = ""
	b.task.Stdout = "env.txt"
	b.run(t)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(b.output(t, "env.txt"), "\n"), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	for k, want := range b.task.Env {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("in the container %s=%q (set: %v), want %q", k, v, ok, want)
		}
	}
	if _, ok := got["FLOW_SECRET_TEST"]; ok {
		t.Error("flow's own environment leaked into the container")
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(b.tmp, f)); err == nil {
			t.Errorf("an environment value was evaluated: /tmp/%s exists", f)
		}
	}
}

func TestContainerExitCodePropagates(t *testing.T) {
	t.Parallel()
	b := newBox(t, "sh", "-c", "exit 3")
	if res := b.run(t); res.ExitCode != 3 {
		t.Errorf("exit 3 in the container: %+v", res)
	}
}

// A command missing from the image is only found missing inside the
// container, so it is a failed task, not a Start error.
func TestContainerMissingCommandFails(t *testing.T) {
	t.Parallel()
	b := newBox(t, "flow-no-such-command")
	if res := b.run(t); res.Success() || res.ExitCode == 0 {
		t.Errorf("a command missing from the image: %+v", res)
	} else if !strings.Contains(res.StderrTail, "flow-no-such-command") {
		t.Errorf("stderr %q does not name the missing command", res.StderrTail)
	}
}

func TestContainerSeesTheImage(t *testing.T) {
	t.Parallel()
	b := newBox(t, "cat", "/etc/image-name")
	b.task.Stdout = "marker.txt"
	b.run(t)
	if got := b.output(t, "marker.txt"); got != imageMarker {
		t.Errorf("/etc/image-name in the container holds %q, want %q", got, imageMarker)
	}
}

// Cancel stops the whole container: a background child, seen to start
// before the cancel, must be gone after it.
func TestContainerCancelStopsEverything(t *testing.T) {
	t.Parallel()
	mark := executortest.SurvivorMark()
	b := newBox(t, "sh", "-c", "sleep "+mark+" & echo started > child; sleep 100")
	h, err := b.ex.Start(context.Background(), b.task)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(b.out, "child")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container's background child did not start within a minute")
		}
	}
	if err := b.ex.Cancel(context.Background(), h); err != nil {
		t.Errorf("Cancel: %v", err)
	}
	res, err := b.ex.Wait(context.Background(), h)
	if err != nil || res.Success() {
		t.Errorf("a cancelled container task: %+v, %v", res, err)
	}
	executortest.AssertNoSurvivor(t, mark)
}

// An Argv starting with '-' is arguments for the image's entrypoint, as
// with `docker run`: CWL's docker_entrypoint test gives bash's image the
// baseCommand ["-c", "echo 'moo' > cow"]. In a SIF the entrypoint is the
// runscript, which must get them.
func TestContainerArgumentsGoToTheRunscript(t *testing.T) {
	t.Parallel()
	b := newBoxWith(t, siftest.Options{Runscript: "#!/bin/sh\nexec /bin/sh \"$@\"\n"}, "-c", "echo moo > cow")
	if res := b.run(t); !res.Success() {
		t.Fatalf("%+v", res)
	}
	if got := b.output(t, "cow"); got != "moo\n" {
		t.Errorf("cow holds %q, want %q", got, "moo\n")
	}
	// That the runscript, not some fallback, got them, and all of them.
	b = newBoxWith(t, siftest.Options{Runscript: "#!/bin/sh\necho \"entrypoint: $# args: $*\"\n"}, "--flag", "a b")
	b.task.Stdout = "out.txt"
	if res := b.run(t); !res.Success() {
		t.Fatalf("%+v", res)
	}
	if got, want := b.output(t, "out.txt"), "entrypoint: 2 args: --flag a b\n"; got != want {
		t.Errorf("the runscript printed %q, want %q", got, want)
	}
}

// Without a runscript, real runtimes hand run's arguments to /bin/sh;
// with no /bin/sh either, the task fails and says why.
func TestContainerArgumentsWithoutRunscript(t *testing.T) {
	t.Parallel()
	b := newBox(t, "-c", "echo moo > cow")
	if res := b.run(t); !res.Success() {
		t.Fatalf("no runscript: %+v", res)
	}
	if got := b.output(t, "cow"); got != "moo\n" {
		t.Errorf("no runscript: cow holds %q, want %q", got, "moo\n")
	}
	b = newBoxWith(t, siftest.Options{NoShell: true}, "-c", "echo moo > cow")
	res := b.run(t)
	if res.Success() || res.ExitCode == 0 {
		t.Errorf("no runscript and no /bin/sh: %+v", res)
	} else if !strings.Contains(res.StderrTail, "No runscript") {
		t.Errorf("no runscript and no /bin/sh: stderr %q does not say the image has no runscript", res.StderrTail)
	}
	if _, err := os.Stat(filepath.Join(b.out, "cow")); err == nil {
		t.Error("no runscript and no /bin/sh: cow was written anyway")
	}
}

// Tasks without an image go through the wrapper untouched, so the wrapped
// executor still passes the conformance suite.
func TestWrappedExecutorConformance(t *testing.T) {
	rt := Runtime{Path: "/nonexistent/apptainer", Name: "apptainer", Version: "1.3.0"}
	executortest.Run(t, func(t *testing.T) executors.Executor {
		inner, err := local.New(local.Options{KillGrace: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return Wrap(inner, rt)
	})
}

// What the runtime itself prints must not reach the tool's stderr, which
// a CWL tool may capture as an output. Binding the task's /tmp over the
// image's makes SingularityCE warn even under --quiet; the same task run
// with --quiet shows the warning, so the check below can fail.
func TestRuntimeMessagesStayOutOfTheToolsStderr(t *testing.T) {
	t.Parallel()
	b := newBox(t, "sh", "-c", "echo tool-says >&2")
	b.task.Stderr = "err.txt"
	if res := b.run(t); !res.Success() {
		t.Fatalf("%+v", res)
	}
	if got := b.output(t, "err.txt"); got != "tool-says\n" {
		t.Errorf("the tool's stderr holds %q, want only %q", got, "tool-says\n")
	}
	rt, err := FindRuntime(context.Background(), siftest.Runtime(t))
	if err != nil {
		t.Fatal(err)
	}
	if siftest.IsStandIn(rt.Path) {
		return // the stand-in prints no warnings to provoke
	}
	argv, dir, err := Command(rt, b.task)
	if err != nil {
		t.Fatal(err)
	}
	argv[1] = "--quiet"
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "WARNING") {
		t.Errorf("with --quiet the runtime printed %q (%v); this test no longer provokes a warning", out, err)
	}
}

// Every container test above, again as an unprivileged user.
func TestContainersAsAnUnprivilegedUser(t *testing.T) {
	siftest.RerunUnprivileged(t, "^(TestContainer|TestRuntimeMessages)")
}
