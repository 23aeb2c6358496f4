package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	// Insecure are registries (host or host:port, as in the image name)
	// reached over plain HTTP: a private registry without TLS, a test one
	// on 127.0.0.1. Pulls from them run with the runtime's NOHTTPS
	// setting; every other registry needs HTTPS.
	Insecure []string
	// CADir, if not "", is a directory of PEM CA certificates that pulls
	// trust beside the system's: a private registry's own CA. Both
	// runtimes are Go programs, which read such directories from
	// SSL_CERT_DIR.
	CADir string
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
	cmd.Env = p.env(rt, ref)
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(string(tail.buf))
		if msg == "" {
			return fmt.Errorf("%s pull %s failed: %w", filepath.Base(rt), ref, err)
		}
		return fmt.Errorf("%s pull %s failed: %w: %s", filepath.Base(rt), ref, err, msg)
	}
	return nil
}

// env is the runtime's environment for pulling ref: flow's, with the
// registry settings of p; nil (flow's own) when there are none.
func (p RuntimePuller) env(rt, ref string) []string {
	var extra []string
	if slices.Contains(p.Insecure, RegistryHost(ref)) {
		// The environment rather than a flag: its name has been
		// --nohttps and --no-https across versions; the variable,
		// read under the program's own prefix, has not changed.
		prefix := "SINGULARITY_"
		if strings.Contains(filepath.Base(rt), "apptainer") {
			prefix = "APPTAINER_"
		}
		extra = append(extra, prefix+"NOHTTPS=true")
	}
	if p.CADir != "" {
		dirs := p.CADir
		if old := os.Getenv("SSL_CERT_DIR"); old != "" {
			dirs += ":" + old
		}
		extra = append(extra, "SSL_CERT_DIR="+dirs)
	}
	if extra == nil {
		return nil
	}
	return append(os.Environ(), extra...)
}

// RegistryHost is the registry a docker:// or oras:// reference names:
// its first path element when that has a '.' or ':' or is "localhost"
// (Docker's rule); "" for Docker Hub and other schemes.
func RegistryHost(ref string) string {
	scheme, rest, ok := strings.Cut(ref, "://")
	if !ok || scheme != "docker" && scheme != "oras" {
		return ""
	}
	first, _, ok := strings.Cut(rest, "/")
	if !ok || !strings.ContainsAny(first, ".:") && first != "localhost" {
		return ""
	}
	return first
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
