package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Puller fetches an image. Pull writes the image named by ref (a URI
// such as "docker://debian:stable-slim") to the file dest, which exists
// and may be overwritten. The Cache validates dest and moves it into
// place; a Puller need not be atomic and is never called twice at once
// for one image and cache.
type Puller interface {
	Pull(ctx context.Context, ref, dest string) error
}

// RuntimePuller pulls with Apptainer or Singularity:
//
//	<runtime> pull --force [--disable-cache] <dest> <ref>
//
// (both accept "pull [pull options...] [output file] <URI>"). --force is
// needed because dest already exists: the cache creates it to reserve a
// unique name.
type RuntimePuller struct {
	// Runtime is the apptainer or singularity executable, a path or a
	// name looked up on PATH. Empty means apptainer, else singularity.
	Runtime string
	// DisableCache passes --disable-cache, so the runtime keeps no layer
	// cache of its own (~/.apptainer/cache) beside ours; useful where home
	// directories have small quotas, at the cost of re-downloading layers
	// that several images share.
	DisableCache bool
	// Output receives the runtime's progress messages, if not nil. The
	// last of them go into the error of a failed pull either way.
	Output io.Writer
}

// Pull runs the runtime's pull command. A bare ref gets "docker://".
// Cancelling ctx stops the runtime with SIGTERM, then SIGKILL.
func (p RuntimePuller) Pull(ctx context.Context, ref, dest string) error {
	rt, err := p.runtime()
	if err != nil {
		return err
	}
	if !strings.Contains(ref, "://") {
		ref = "docker://" + ref
	}
	args := []string{"pull", "--force"}
	if p.DisableCache {
		args = append(args, "--disable-cache")
	}
	args = append(args, dest, ref)

	cmd := exec.CommandContext(ctx, rt, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	tail := &tailWriter{max: 2048}
	var out io.Writer = tail
	if p.Output != nil {
		out = io.MultiWriter(tail, p.Output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(string(tail.buf))
		if msg == "" {
			return fmt.Errorf("%s pull %s failed: %w", filepath.Base(rt), ref, err)
		}
		return fmt.Errorf("%s pull %s failed: %w: %s", filepath.Base(rt), ref, err, msg)
	}
	return nil
}

func (p RuntimePuller) runtime() (string, error) {
	if p.Runtime != "" {
		return exec.LookPath(p.Runtime)
	}
	for _, name := range []string{"apptainer", "singularity"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", errors.New("neither apptainer nor singularity is on PATH")
}

// tailWriter keeps the last max bytes written to it: the runtime's final
// messages, which say why a pull failed, without holding a long log.
type tailWriter struct {
	max int
	buf []byte
}

func (w *tailWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(b), nil
}
