package slurm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Runner runs a shell script on the cluster's login side and returns its
// stdout; a non-zero exit is an error carrying stderr. Local (sbatch on this
// machine) implements it with exec; the SSH layer will implement it too.
//
// Scripts are bash. They can be large (a job array of a thousand tasks is
// written to the cluster inside one), so an implementation should not pass
// them as a single command-line argument (Linux caps one argument at
// 128 KiB): a file, or bash reading the script from stdin, both work. The
// scripts' commands never read stdin.
type Runner interface {
	Run(ctx context.Context, script string) ([]byte, error)
}

// Retrier is a Runner that can repeat a call its connection's drop
// interrupted (internal/remote.Client.Retry). The executor retries only
// scripts that are safe to run twice; a submission is made so (it keeps
// sbatch's answer and prints that when run again).
type Retrier interface {
	Retry(ctx context.Context, fn func() error) error
}

// retry runs fn, repeating it after a dropped connection when the Runner
// can tell.
func (e *Executor) retry(ctx context.Context, fn func() error) error {
	if r, ok := e.opts.Runner.(Retrier); ok {
		return r.Retry(ctx, fn)
	}
	return fn()
}

// LocalRunner runs scripts with bash on this machine: the cluster's login
// side is here (a cluster with ssh: false). Env is appended to flow's own
// environment, e.g. "SLURM_CONF=/etc/slurm/test.conf".
type LocalRunner struct {
	Env []string
}

// Run writes the script to a temporary file and runs bash on it, with
// stdin from /dev/null. It returns when the script ends or ctx does.
func (r LocalRunner) Run(ctx context.Context, script string) ([]byte, error) {
	f, err := os.CreateTemp("", "flow-slurm-*.sh")
	if err != nil {
		return nil, fmt.Errorf("cannot write a script for bash: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(script)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("cannot write a script for bash: %w", err)
	}
	cmd := exec.CommandContext(ctx, "bash", f.Name())
	cmd.Env = append(os.Environ(), r.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return stdout.Bytes(), fmt.Errorf("%s failed (%v): %s", describe(script), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// describe names a script by its first line, which flow's scripts make a
// comment saying what they do ("# flow: squeue").
func describe(script string) string {
	first, _, _ := strings.Cut(script, "\n")
	if s, ok := strings.CutPrefix(first, "# flow: "); ok {
		return "the Slurm command " + s
	}
	return "a shell script on the cluster"
}
