package staging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/singularity"
)

// Containers run tasks with an Image on the remote side, with the remote
// side's own runtime: the image goes to ImageDir once per digest (see
// Remote.StageImage), each of the task's mounts is staged to a directory
// of the task's own, and the task becomes the runtime's command line
// binding those directories where the container expects them (the
// engine's view gives the container paths).
type Containers struct {
	ImageDir string // remote directory of images, by SHA-256
	// Runtime finds the remote runtime. It is asked once, when the first
	// task with an image starts; an error refuses that task and every
	// later one, with its message.
	Runtime func(ctx context.Context) (Runtime, error)
}

// Runtime is a container runtime on the remote side.
type Runtime struct {
	// Argv starts the runtime: its path, or a command that loads a
	// module and then runs it; the runtime's arguments follow.
	Argv    []string
	Name    string // "singularity" or "apptainer"
	Version string
}

// runtimeEnv is the whole environment of the runtime process: the task's
// own environment goes into the container through the runtime's flags.
var runtimeEnv = map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin"}

// containerRuntime asks for the runtime once and keeps the answer.
type containerRuntime struct {
	once sync.Once
	rt   Runtime
	err  error
}

func (s *stager) runtime(ctx context.Context) (Runtime, error) {
	c := s.opts.Containers
	if c == nil {
		return Runtime{}, errNoContainers
	}
	s.rt.once.Do(func() { s.rt.rt, s.rt.err = c.Runtime(ctx) })
	return s.rt.rt, s.rt.err
}

var errNoContainers = fmt.Errorf("it runs in a container, and this cluster does not share flow's file system (shared_fs: false) and has no container runtime configured; set containers.singularity (or containers.module) for it in the compute configuration, or run with --no-container")

// containerTask stages t's image and mounts with p and returns the task
// the inner executor runs: the runtime, in the remote copy of t's working
// directory. root is the task's own remote directory, for its mounts.
func (s *stager) containerTask(ctx context.Context, p *plan, t *executors.Task, root string) (*executors.Task, error) {
	rt, err := s.runtime(ctx)
	if err != nil {
		return nil, fmt.Errorf("task %q: %w", t.ID, err)
	}
	image, err := s.stageImage(ctx, t.Image)
	if err != nil {
		return nil, fmt.Errorf("task %q: %w", t.ID, err)
	}
	ct := *t
	ct.Image, ct.Mounts = image, make([]executors.Mount, len(t.Mounts))
	for i, m := range t.Mounts {
		staged := executors.Mount{Source: m.Source, Target: path.Join(root, m.Source), Writable: m.Writable}
		if err := p.add(ctx, staged); err != nil {
			return nil, fmt.Errorf("task %q: %w", t.ID, err)
		}
		ct.Mounts[i] = executors.Mount{Source: staged.Target, Target: m.Target, Writable: m.Writable}
	}
	// The runtime's flags depend on what it is, not where: Command is
	// given a stand-in path, replaced by the remote command line.
	argv, hostDir, err := singularity.Command(singularity.Runtime{Path: "/runtime", Name: rt.Name, Version: rt.Version}, &ct)
	if err != nil {
		return nil, err
	}
	ht := *t
	ht.Argv = append(append([]string{}, rt.Argv...), argv[1:]...)
	ht.Dir, ht.Env, ht.Image, ht.Mounts = hostDir, runtimeEnv, "", nil
	for _, st := range []*string{&ht.Stdin, &ht.Stdout, &ht.Stderr} {
		if *st, err = hostPath(&ct, *st); err != nil {
			return nil, err
		}
	}
	return &ht, nil
}

// hostPath maps a stream's container path (relative to the working
// directory, or absolute) to the remote path behind it.
func hostPath(t *executors.Task, p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if !path.IsAbs(p) {
		p = path.Join(t.Dir, p)
	}
	ms := append([]executors.Mount{}, t.Mounts...)
	sort.Slice(ms, func(i, j int) bool { return len(ms[i].Target) > len(ms[j].Target) })
	for _, m := range ms {
		if p == m.Target {
			return m.Source, nil
		}
		if rel, ok := strings.CutPrefix(p, strings.TrimSuffix(m.Target, "/")+"/"); ok {
			return path.Join(m.Source, rel), nil
		}
	}
	return "", fmt.Errorf("task %q: the stream %s is not inside any of its mounts", t.ID, p)
}

// taskDir is a new directory name for one container task under root.
func taskDir(root string, t *executors.Task) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.ID)
	if len(name) > 40 {
		name = name[:40]
	}
	return path.Join(root, "c-"+name+"-"+hex.EncodeToString(b[:]))
}

// ParseVersion reads a runtime's --version line, "<product> version <v>".
func ParseVersion(out string) (name, version string, err error) {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	f := strings.Fields(line)
	if len(f) < 3 || f[1] != "version" {
		return "", "", fmt.Errorf("its --version printed %q, not what Singularity or Apptainer print", line)
	}
	switch product := strings.ToLower(f[0]); {
	case strings.Contains(product, "apptainer"):
		return "apptainer", f[2], nil
	case strings.Contains(product, "singularity"):
		return "singularity", f[2], nil
	}
	return "", "", fmt.Errorf("its --version printed %q, not what Singularity or Apptainer print", line)
}
