// Package staging runs tasks on a machine that does not share flow's file
// system, such as a cluster reached over SSH whose disks this machine does
// not mount.
//
// The engine describes what a task needs with Task.Mounts: each input at
// the path the command will see (read-only), and the job's output
// directory and tmpdir (writable). Before the task starts, Wrap's executor
// makes those paths true on the remote side:
//
//   - every input file is uploaded once into a content-addressed store
//     (StoreDir/sha1/ab/<sha1>/<name>): a file that is already there is
//     not sent again, by this run or any other, and the mount's target
//     becomes a symlink to it;
//   - the writable directories are created, with what flow put in the
//     output directory before the command (InitialWorkDir's files)
//     copied in.
//
// All of that is one remote script, whatever the number of files. When
// the task has ended, the output directory is brought back: one remote
// listing, then a download of each file into the local directory, where
// the engine collects outputs as it does for local jobs. The remote
// directories are then removed (unless Options.Keep).
//
// A task that runs in a container (Task.Image) needs the remote side's
// own runtime (Options.Containers): its image is uploaded once per
// SHA-256 into an image directory (or was pulled there by that runtime,
// see LoginPuller), its mounts are staged under a
// directory of the task's own, and it runs as that runtime's command line
// binding them where the container expects them.
//
// Start takes a batch (StartBatch): a scatter's jobs, gathered by
// executors.Coalesce, are staged by one remote script and handed to the
// inner executor together, which submits them as one job array. Jobs that
// end together list and remove their directories in one remote command.
package staging

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
)

// Remote is what staging needs of the other machine: run a script, and
// move files (internal/remote.Client does both, over SSH and SFTP).
type Remote interface {
	Run(ctx context.Context, script string) ([]byte, error)
	StageFile(ctx context.Context, local, remoteRoot string) (string, error)
	StageImage(ctx context.Context, local, remoteDir string) (string, error)
	Download(ctx context.Context, remote, local string) error
}

// Options configure Wrap.
type Options struct {
	// Root holds the tasks' directories: each task's mounts are below one
	// directory of its own directly under Root, removed after the task.
	Root     string
	StoreDir string // the remote content-addressed store of inputs
	Keep     bool   // leave the remote job directories after the job
	// Containers, when set, runs tasks with an Image on the remote side;
	// without it they are refused with a message saying why.
	Containers *Containers
	Log        zerolog.Logger
}

// Wrap returns an executor that stages each task's mounts to the remote
// side, runs it with inner, and brings its output directory back. It
// starts batches (executors.Coalesce over it gathers a scatter's starts)
// and hands each batch to inner whole when inner takes batches.
func Wrap(inner executors.Executor, r Remote, o Options) executors.BatchExecutor {
	return &stager{inner: inner, remote: r, opts: o, scripts: &scripts{remote: r, idle: 100 * time.Millisecond}}
}

type stager struct {
	inner  executors.Executor
	remote Remote
	opts   Options
	// scripts batches the listing and removal scripts of jobs that end
	// together into one remote command.
	scripts *scripts
	rt      containerRuntime
}

// state is what a handle carries, besides the inner executor's own
// state, to bring the outputs back, also after a restart.
type state struct {
	Inner  []byte   `json:"inner,omitempty"`
	Outdir string   `json:"outdir"` // remote
	Local  string   `json:"local"`  // where it comes back to
	Remove []string `json:"remove"` // remote directories to delete after
}

func (s *stager) Name() string { return s.inner.Name() }

// Capabilities are inner's, with containers when a runtime is configured.
func (s *stager) Capabilities() executors.Capabilities {
	c := s.inner.Capabilities()
	c.Containers = c.Containers || s.opts.Containers != nil
	return c
}

var _ executors.BatchExecutor = (*stager)(nil)

// Start stages one task and starts it: a batch of one.
func (s *stager) Start(ctx context.Context, t *executors.Task) (*executors.Handle, error) {
	hs, err := s.StartBatch(ctx, []*executors.Task{t})
	if err != nil {
		return nil, err
	}
	return hs[0], nil
}

// StartBatch stages every task of the batch, then starts them together:
// one remote script makes all their directories and links (uploads share
// the one SFTP session, each content once), and the inner executor gets
// the whole batch, so that a scheduler submits one job array for it.
func (s *stager) StartBatch(ctx context.Context, ts []*executors.Task) ([]*executors.Handle, error) {
	p := &plan{remote: s.remote, store: s.opts.StoreDir}
	states := make([]state, len(ts))
	inner := make([]*executors.Task, len(ts))
	for i, t := range ts {
		out, ok := outdirMount(t)
		if !ok {
			return nil, fmt.Errorf("task %q has no writable mount for its working directory %s, so its outputs could not come back", t.ID, t.Dir)
		}
		if t.Image != "" {
			root := taskDir(s.opts.Root, t)
			ct, err := s.containerTask(ctx, p, t, root)
			if err != nil {
				return nil, err
			}
			inner[i] = ct
			states[i] = state{Outdir: path.Join(root, out.Source), Local: out.Source, Remove: []string{root}}
			continue
		}
		for _, m := range t.Mounts {
			if err := p.add(ctx, m); err != nil {
				return nil, fmt.Errorf("task %q: %w", t.ID, err)
			}
		}
		rt := *t
		rt.Mounts = nil
		inner[i] = &rt
		states[i] = state{Outdir: out.Target, Local: out.Source, Remove: s.taskRoots(t)}
	}
	if err := p.run(ctx); err != nil {
		return nil, fmt.Errorf("task %q: cannot stage its inputs: %w", ts[0].ID, batchNote(err, len(ts)))
	}
	hs, err := s.startInner(ctx, inner)
	if err != nil {
		return nil, err
	}
	for i, h := range hs {
		states[i].Inner = h.State
		if hs[i], err = wrapHandle(h, states[i]); err != nil {
			return nil, err
		}
	}
	return hs, nil
}

// startInner starts the staged tasks as one batch when the inner executor
// takes batches, else one by one.
func (s *stager) startInner(ctx context.Context, ts []*executors.Task) ([]*executors.Handle, error) {
	if b, ok := s.inner.(executors.BatchStarter); ok {
		return b.StartBatch(ctx, ts)
	}
	hs := make([]*executors.Handle, 0, len(ts))
	for _, t := range ts {
		h, err := s.inner.Start(ctx, t)
		if err != nil {
			for _, started := range hs {
				_ = s.inner.Cancel(context.WithoutCancel(ctx), started)
			}
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// batchNote says that the error is the whole batch's, when it has more
// than one task.
func batchNote(err error, n int) error {
	if n == 1 {
		return err
	}
	return fmt.Errorf("%w (staged together with %d other tasks)", err, n-1)
}

// taskRoots are the directories under Root that hold t's mounts.
func (s *stager) taskRoots(t *executors.Task) []string {
	seen := map[string]bool{}
	var roots []string
	for _, m := range t.Mounts {
		rel, ok := strings.CutPrefix(m.Target, s.opts.Root+"/")
		if s.opts.Root == "" || !ok {
			continue
		}
		top, _, _ := strings.Cut(rel, "/")
		if r := path.Join(s.opts.Root, top); top != "" && top != ".." && !seen[r] {
			seen[r] = true
			roots = append(roots, r)
		}
	}
	return roots
}

// outdirMount is the writable mount the task works in.
func outdirMount(t *executors.Task) (executors.Mount, bool) {
	for _, m := range t.Mounts {
		if m.Writable && m.Target == t.Dir {
			return m, true
		}
	}
	return executors.Mount{}, false
}

// Wait waits for the task, then brings its output directory back.
func (s *stager) Wait(ctx context.Context, h *executors.Handle) (executors.Result, error) {
	inner, st, err := unwrapHandle(h)
	if err != nil {
		return executors.Result{}, err
	}
	res, err := s.inner.Wait(ctx, inner)
	if err != nil {
		return res, err
	}
	if err := s.fetch(ctx, st); err != nil {
		return res, fmt.Errorf("task %q: cannot bring its outputs back: %w", h.TaskID, err)
	}
	if !s.opts.Keep {
		s.cleanup(ctx, st)
	}
	return res, nil
}

func (s *stager) Cancel(ctx context.Context, h *executors.Handle) error {
	inner, _, err := unwrapHandle(h)
	if err != nil {
		return err
	}
	return s.inner.Cancel(ctx, inner)
}

func (s *stager) Recover(ctx context.Context, h *executors.Handle) error {
	inner, st, err := unwrapHandle(h)
	if err != nil {
		return err
	}
	if err := s.inner.Recover(ctx, inner); err != nil {
		return err
	}
	nh, err := wrapHandle(inner, st)
	if err == nil {
		*h = *nh
	}
	return err
}

func wrapHandle(h *executors.Handle, st state) (*executors.Handle, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	out := *h
	out.State = b
	return &out, nil
}

func unwrapHandle(h *executors.Handle) (*executors.Handle, state, error) {
	var st state
	if err := json.Unmarshal(h.State, &st); err != nil {
		return nil, st, fmt.Errorf("task %q: its handle carries no staging state: %w", h.TaskID, err)
	}
	inner := *h
	inner.State = st.Inner
	return &inner, st, nil
}
