package singularity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Runtime is a Singularity or Apptainer installation.
type Runtime struct {
	Path    string // absolute path of the program
	Name    string // "apptainer" or "singularity" (including SingularityCE)
	Version string // as the program reports it, e.g. "1.2.5-1.el8"
	// Sandboxed says the runtime itself runs in a job sandbox
	// (executors/sandbox), which shows a task only its Mounts. Its host
	// tasks then name every host path the runtime needs, and containers
	// get the sandbox's /proc, which shows the sandbox's processes only:
	// a sandbox refuses a nested proc mount.
	Sandboxed bool
}

// ErrNoRuntime is what FindRuntime says when there is nothing to use.
var ErrNoRuntime = errors.New("no Singularity or Apptainer runtime found on PATH (looked for apptainer, singularity); install one, or run with --no-container")

// FindRuntime returns the runtime at configured (a path, or a name looked
// up in PATH) or, when configured is "", apptainer or else singularity
// from PATH. It runs the program's --version to learn what it is.
func FindRuntime(ctx context.Context, configured string) (Runtime, error) {
	names := []string{"apptainer", "singularity"}
	if configured != "" {
		names = []string{configured}
	}
	for _, name := range names {
		p, err := exec.LookPath(name)
		if err != nil {
			if configured != "" {
				return Runtime{}, fmt.Errorf("the configured container runtime %q cannot be used: %w", configured, err)
			}
			continue
		}
		if p, err = filepath.Abs(p); err != nil {
			return Runtime{}, err
		}
		return probe(ctx, p)
	}
	return Runtime{}, ErrNoRuntime
}

// probe runs `p --version` and parses what it prints.
func probe(ctx context.Context, p string) (Runtime, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, p, "--version")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Runtime{}, fmt.Errorf("%s --version failed: %v: %s", p, err, strings.TrimSpace(stderr.String()))
	}
	name, version, err := parseVersion(string(out))
	if err != nil {
		return Runtime{}, fmt.Errorf("%s: %w", p, err)
	}
	return Runtime{Path: p, Name: name, Version: version}, nil
}

// parseVersion reads "<product> version <version>", as printed by
// "apptainer", "singularity-ce" and older "singularity" builds (an
// apptainer installed as singularity calls itself apptainer).
func parseVersion(out string) (name, version string, err error) {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	f := strings.Fields(line)
	if len(f) < 3 || f[1] != "version" {
		return "", "", fmt.Errorf("its --version output %q is not that of Singularity or Apptainer", line)
	}
	switch product := strings.ToLower(f[0]); {
	case strings.Contains(product, "apptainer"):
		name = "apptainer"
	case strings.Contains(product, "singularity"):
		name = "singularity"
	default:
		return "", "", fmt.Errorf("its --version output %q is not that of Singularity or Apptainer", line)
	}
	return name, f[2], nil
}

// noEval reports whether the runtime has --no-eval, which stops it from
// evaluating --env values in a shell: Apptainer 1.1 and SingularityCE
// 3.10 added it (older Singularity 3.x never reached 3.10).
func (rt Runtime) noEval() bool {
	major, minor := rt.majorMinor()
	if rt.Name == "apptainer" {
		return major > 1 || major == 1 && minor >= 1
	}
	return major > 3 || major == 3 && minor >= 10
}

// majorMinor reads the leading "x.y" of the version; 0, 0 if it cannot.
func (rt Runtime) majorMinor() (int, int) {
	parts := strings.SplitN(rt.Version, ".", 3)
	if len(parts) < 2 {
		return 0, 0
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	return major, minor
}
