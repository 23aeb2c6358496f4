package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/flow-cwl/flow/executors"
)

// Options say how sandboxes are made.
type Options struct {
	// Bwrap is the bubblewrap program; "" looks for bwrap on PATH.
	Bwrap string
	// System are the directories every task sees read-only, at their own
	// paths; nil means DefaultSystem. Missing ones are left out, and a
	// symbolic link (/bin -> usr/bin on a merged-/usr system) is made
	// again inside the sandbox.
	System []string
	// Hide are files or directories under System that tasks must not see
	// (a daemon's configuration and keys, say), besides the entries of
	// /etc that not every user may read, which are always hidden.
	Hide []string
}

// nobody is the user and group id of a root flow's jobs inside the
// sandbox.
const nobody = "65534"

// DefaultSystem is what a program needs from the system to run: its
// programs and libraries, and the configuration that every user of the
// machine may read.
var DefaultSystem = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"}

// Wrap returns an executor that runs every task on inner inside a
// sandbox. Tasks with an image are refused: the container runtime's layer
// goes above this one and turns them into tasks that run the runtime.
// Wrap fails when bwrap cannot be found; Check says whether a sandbox can
// really be made here.
func Wrap(inner executors.Executor, opts Options) (executors.Executor, error) {
	bwrap, err := findBwrap(opts.Bwrap)
	if err != nil {
		return nil, err
	}
	if opts.System == nil {
		opts.System = DefaultSystem
	}
	w := &wrapper{bwrap: bwrap, opts: opts}
	return executors.Layer{Inner: inner, Rewrite: w.sandboxed, Result: signalled}.Executor(), nil
}

func findBwrap(name string) (string, error) {
	if name == "" {
		name = "bwrap"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("the job sandbox needs bubblewrap (%s), which is not installed: install Debian's bubblewrap package", name)
	}
	return filepath.Abs(p)
}

type wrapper struct {
	bwrap string
	opts  Options

	once   sync.Once
	system []string // bwrap arguments for the system directories, made once
}

// signalled undoes bwrap's report of a command killed by signal N as exit
// status 128+N (as a shell reports it), so that a task killed in the
// sandbox ends as one killed outside it. A command that exits with such
// a status on purpose is taken for killed too; shells make the same
// confusion.
func signalled(res executors.Result) executors.Result {
	if res.Signal != "" || res.ExitCode <= 128 || res.ExitCode > 128+64 {
		return res
	}
	name := unix.SignalName(syscall.Signal(res.ExitCode - 128))
	if name == "" {
		return res
	}
	res.ExitCode, res.Signal = -1, name
	return res
}

// sandboxed is the task that runs t in a sandbox: bwrap with t's command
// after its own arguments, in t's directory, with t's environment (bwrap
// passes it on) and streams (opened by inner, at the same paths the
// command sees). The caller's task is not modified.
func (w *wrapper) sandboxed(t *executors.Task) (*executors.Task, error) {
	if t.Image != "" {
		return nil, fmt.Errorf("task %q has an image: the container runtime's layer (executors/singularity, with Runtime.Sandboxed) must turn it into the task that runs the runtime, in the sandbox", t.ID)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	w.once.Do(func() { w.system = systemArgs(w.opts.System, w.opts.Hide) })
	if err := checkMounts(t); err != nil {
		return nil, err
	}
	if err := w.findProgram(t); err != nil {
		return nil, err
	}
	st := *t
	st.Argv = append(w.args(t), t.Argv...)
	st.Mounts = nil
	return &st, nil
}

// args are bwrap's arguments for t, up to and including "--".
func (w *wrapper) args(t *executors.Task) []string {
	a := make([]string, 0, 16+len(w.system)+3*len(t.Mounts))
	a = append(a, w.bwrap, "--unshare-all")
	if t.Network {
		a = append(a, "--share-net")
	}
	// --die-with-parent: the sandbox goes when bwrap goes (the executor
	// kills bwrap, or flow dies and takes bwrap with it); the PID
	// namespace then takes every process in it.
	a = append(a, "--die-with-parent", "--new-session", "--cap-drop", "ALL")
	if os.Geteuid() == 0 {
		// A job of a root flow is nobody inside: it still opens its
		// files as their owner (nobody stands for root outside), but
		// tools do not act as root (tar restoring ownership fails in a
		// namespace where only one user exists).
		a = append(a, "--unshare-user", "--uid", nobody, "--gid", nobody)
	}
	a = append(a, w.system...)
	a = append(a, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp")
	for _, m := range sortedMounts(t.Mounts) {
		flag := "--ro-bind"
		if m.Writable {
			flag = "--bind"
		}
		a = append(a, flag, m.Source, m.Target)
	}
	// bwrap sets PWD to the directory, as a shell would: the one
	// variable the command gets that the task did not give.
	return append(a, "--chdir", t.Dir, "--")
}

// checkMounts refuses what the sandbox cannot show as the engine wrote
// it: its view is the identity, so every mount is at its own path.
func checkMounts(t *executors.Task) error {
	for _, m := range t.Mounts {
		if m.Source != m.Target || !filepath.IsAbs(m.Source) || filepath.Clean(m.Source) == "/" {
			return fmt.Errorf("task %q: the sandbox shows files at their own absolute paths, and cannot show %s at %s", t.ID, m.Source, m.Target)
		}
	}
	if !visible(t.Mounts, nil, t.Dir) {
		return fmt.Errorf("task %q: its working directory %s is not among its mounts, so the sandbox would not have it", t.ID, t.Dir)
	}
	return nil
}

// findProgram fails, as the local executor does, for a command the
// sandbox does not have: a name found in none of the PATH directories the
// sandbox shows, or a path outside what it shows.
func (w *wrapper) findProgram(t *executors.Task) error {
	name := t.Argv[0]
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(t.Dir, p)
		}
		if visible(t.Mounts, w.opts.System, p) && executable(p) {
			return nil
		}
		return fmt.Errorf("task %q cannot run %q: it is not a program the job sandbox shows: %w", t.ID, name, executors.ErrNotFound)
	}
	for _, dir := range filepath.SplitList(t.Env["PATH"]) {
		if filepath.IsAbs(dir) && visible(t.Mounts, w.opts.System, dir) && executable(filepath.Join(dir, name)) {
			return nil
		}
	}
	return fmt.Errorf("task %q cannot run %q: it is in none of the task's PATH directories that the job sandbox shows (%s): %w",
		t.ID, name, t.Env["PATH"], executors.ErrNotFound)
}

// visible reports whether p is inside a mount or a system directory.
func visible(ms []executors.Mount, system []string, p string) bool {
	p = filepath.Clean(p)
	inside := func(dir string) bool {
		dir = filepath.Clean(dir)
		return p == dir || strings.HasPrefix(p, dir+"/")
	}
	for _, m := range ms {
		if inside(m.Source) {
			return true
		}
	}
	for _, d := range system {
		if inside(d) {
			return true
		}
	}
	return false
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Check makes a sandbox like those of tasks and runs a program in it, and
// reports in one sentence why it could not. A daemon that must confine
// its jobs calls it before it starts.
func Check(ctx context.Context, opts Options) error {
	bwrap, err := findBwrap(opts.Bwrap)
	if err != nil {
		return err
	}
	if opts.System == nil {
		opts.System = DefaultSystem
	}
	dir, err := os.MkdirTemp("", "flow-sandbox-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w := &wrapper{bwrap: bwrap, opts: opts, system: systemArgs(opts.System, opts.Hide)}
	t := &executors.Task{ID: "check", Dir: dir, Mounts: []executors.Mount{{Source: dir, Target: dir, Writable: true}}}
	argv := append(w.args(t), "/bin/sh", "-c", "echo ok > ok")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		if data, rerr := os.ReadFile(filepath.Join(dir, "ok")); rerr != nil || string(data) != "ok\n" {
			err = errors.New("a program in it could not write its own directory")
		}
	}
	if err != nil {
		msg := strings.Join(strings.Fields(string(out)), " ")
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("cannot make a job sandbox with %s here: %s (bubblewrap needs unprivileged user namespaces, or to run as root)", bwrap, msg)
	}
	return nil
}
