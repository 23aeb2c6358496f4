package singularity

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/executors"
)

// Wrap returns an executor that runs tasks with an Image in containers,
// by starting rt on inner, and passes other tasks to inner unchanged. It
// is a BatchStarter when inner is one.
func Wrap(inner executors.Executor, rt Runtime) executors.Executor {
	w := &wrapper{rt: rt, env: runtimeEnv(os.Environ())}
	return executors.Layer{
		Inner:   inner,
		Rewrite: w.hostTask,
		Capabilities: func(c executors.Capabilities) executors.Capabilities {
			c.Containers = true
			return c
		},
	}.Executor()
}

type wrapper struct {
	rt  Runtime
	env map[string]string // for the runtime process
}

// hostTask turns a container task into the host task that runs the
// runtime: argv from Command, started in the host directory behind Dir,
// with the runtime's environment, and streams opened at their host
// paths. The caller's task is not modified.
func (w *wrapper) hostTask(t *executors.Task) (*executors.Task, error) {
	if t.Image == "" {
		return t, nil
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	argv, dir, err := Command(w.rt, t)
	if err != nil {
		return nil, err
	}
	ht := *t
	ht.Argv, ht.Dir, ht.Env = argv, dir, maps.Clone(w.env)
	ht.Image, ht.Mounts = "", nil
	if w.rt.Sandboxed {
		ht.Mounts = hostMounts(t, w.rt)
	}
	if ht.Stdin, err = hostStream(t, "stdin", t.Stdin, false); err != nil {
		return nil, err
	}
	if ht.Stdout, err = hostStream(t, "stdout", t.Stdout, true); err != nil {
		return nil, err
	}
	if ht.Stderr, err = hostStream(t, "stderr", t.Stderr, true); err != nil {
		return nil, err
	}
	return &ht, nil
}

// hostMounts are the host paths the runtime needs, each at its own path,
// for a sandbox that shows the host task nothing else: the sources of the
// task's binds, its image, the runtime's installation (the directory
// above its bin/, where its configuration and helpers are; else the
// program's own directory) and /sys.
func hostMounts(t *executors.Task, rt Runtime) []executors.Mount {
	var ms []executors.Mount
	add := func(p string, writable bool) {
		for _, m := range ms {
			if m.Source == p {
				return
			}
		}
		ms = append(ms, executors.Mount{Source: p, Target: p, Writable: writable})
	}
	for _, m := range t.Mounts {
		add(m.Source, m.Writable)
	}
	add(t.Image, false)
	for _, p := range []string{rt.Path, realPath(rt.Path)} {
		if p == "" {
			continue
		}
		dir := filepath.Dir(p)
		if filepath.Base(dir) == "bin" {
			dir = filepath.Dir(dir) // an installation: PREFIX/bin, PREFIX/libexec, PREFIX/etc
		}
		if dir != "/" {
			add(dir, false)
		}
	}
	add("/sys", false)
	return ms
}

func realPath(p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return ""
	}
	return r
}

// hostStream maps a stream's container path (relative to Dir, or
// absolute) to its host path: the inner executor opens it on the host. A
// stream written into a read-only mount is refused, since the host could
// write there when the command could not.
func hostStream(t *executors.Task, which, p string, write bool) (string, error) {
	if p == "" {
		return "", nil
	}
	host, m, ok := toHost(t.Mounts, path.Join(t.Dir, p))
	if path.IsAbs(p) {
		host, m, ok = toHost(t.Mounts, p)
	}
	switch {
	case !ok:
		return "", fmt.Errorf("task %q: its %s %s is not inside any of its mounts, so it cannot be opened on the host", t.ID, which, p)
	case write && !m.Writable:
		return "", fmt.Errorf("task %q: its %s %s is in a read-only mount", t.ID, which, p)
	}
	return host, nil
}

// runtimeEnv picks from flow's environment what the runtime needs on the
// host: where to find its helpers, whose it is, the locale, and its own
// settings (cache and temporary directories, site bind paths). Variables
// that would set something in the container (APPTAINERENV_*,
// SINGULARITYENV_*) are not among them: the task's Env is all it gets.
func runtimeEnv(environ []string) map[string]string {
	keep := map[string]bool{
		"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, "TMPDIR": true,
		"LANG": true, "LC_ALL": true, "XDG_RUNTIME_DIR": true,
	}
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if keep[k] || strings.HasPrefix(k, "APPTAINER_") || strings.HasPrefix(k, "SINGULARITY_") {
			env[k] = v
		}
	}
	if _, ok := env["PATH"]; !ok {
		env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
	}
	return env
}
