package singularity

import (
	"encoding/csv"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/flow-cwl/flow/executors"
)

// Command returns the argv that runs t in its image with rt, and hostDir,
// the host directory behind t.Dir, where the runtime process itself must
// start. It only computes; nothing is checked on disk. It refuses a task
// whose image, mounts or environment the runtime's command line cannot
// express exactly.
func Command(rt Runtime, t *executors.Task) (argv []string, hostDir string, err error) {
	if t.Image == "" {
		return nil, "", fmt.Errorf("task %q has no container image", t.ID)
	}
	if !filepath.IsAbs(t.Image) {
		// A relative one would resolve against hostDir, and a name
		// with "://" would be taken for a URI to pull.
		return nil, "", fmt.Errorf("task %q: its image %q is not an absolute path", t.ID, t.Image)
	}
	if err := checkMounts(t); err != nil {
		return nil, "", err
	}
	hostDir, _, ok := toHost(t.Mounts, t.Dir)
	if !ok {
		return nil, "", fmt.Errorf("task %q: its working directory %s is not inside any of its mounts, so it does not exist on the host", t.ID, t.Dir)
	}
	argv = []string{rt.Path, "--silent", verb(t), "--containall"}
	if rt.Sandboxed {
		argv = append(argv, "--no-mount", "proc", "--bind", "/proc:/proc")
	}
	if rt.noEval() {
		argv = append(argv, "--no-eval")
	}
	homeArgs, homeMount, err := home(t)
	if err != nil {
		return nil, "", err
	}
	argv = append(argv, homeArgs...)
	argv = append(argv, "--pwd", path.Clean(t.Dir))
	for _, m := range sortedMounts(t.Mounts) {
		if m != homeMount {
			argv = append(argv, "--bind", bindSpec(m))
		}
	}
	envArgs, err := envFlags(rt, t)
	if err != nil {
		return nil, "", err
	}
	argv = append(argv, envArgs...)
	argv = append(argv, t.Image)
	return append(argv, t.Argv...), hostDir, nil
}

// verb is the runtime's action for t: `exec` runs Argv[0] as a program,
// but an Argv[0] starting with '-' cannot name one. Such a task was
// written for a Docker image whose ENTRYPOINT takes Argv as its
// arguments, as `docker run IMAGE ARGV...` gives them, so it gets `run`:
// that executes the image's runscript, where a SIF converted from a
// Docker image keeps its ENTRYPOINT and CMD, with Argv as arguments. Both
// runtimes accept the same flags for run as for exec.
func verb(t *executors.Task) string {
	if len(t.Argv) > 0 && strings.HasPrefix(t.Argv[0], "-") {
		return "run"
	}
	return "exec"
}

// checkMounts refuses mounts the --bind syntax, "src:dst[:ro]" in a
// comma-separated list, cannot carry, and targets that clash.
func checkMounts(t *executors.Task) error {
	seen := map[string]bool{}
	for _, m := range t.Mounts {
		for _, p := range []string{m.Source, m.Target} {
			if strings.ContainsAny(p, ":,") {
				return fmt.Errorf("task %q: the mount %s -> %s cannot be given to Singularity: its --bind syntax (src:dst:ro, comma-separated) cannot carry a ':' or ',' in a path", t.ID, m.Source, m.Target)
			}
		}
		if !filepath.IsAbs(m.Source) || !path.IsAbs(m.Target) || path.Clean(m.Target) == "/" {
			return fmt.Errorf("task %q: the mount %s -> %s needs an absolute source and an absolute target other than /", t.ID, m.Source, m.Target)
		}
		target := path.Clean(m.Target)
		if seen[target] {
			return fmt.Errorf("task %q mounts two things at %s", t.ID, target)
		}
		seen[target] = true
	}
	return nil
}

// sortedMounts orders mounts parents first, so that a mount is never
// hidden by one of a directory above it that the runtime applies later.
func sortedMounts(ms []executors.Mount) []*executors.Mount {
	out := make([]*executors.Mount, len(ms))
	for i := range ms {
		out[i] = &ms[i]
	}
	slices.SortStableFunc(out, func(a, b *executors.Mount) int {
		return strings.Count(path.Clean(a.Target), "/") - strings.Count(path.Clean(b.Target), "/")
	})
	return out
}

func bindSpec(m *executors.Mount) string {
	spec := m.Source + ":" + path.Clean(m.Target)
	if !m.Writable {
		spec += ":ro"
	}
	return spec
}

// toHost maps container path p to the host through the mount with the
// longest Target that holds it.
func toHost(ms []executors.Mount, p string) (host string, m *executors.Mount, ok bool) {
	if !path.IsAbs(p) {
		return "", nil, false
	}
	p = path.Clean(p)
	for i := range ms {
		target := path.Clean(ms[i].Target)
		rel, found := strings.CutPrefix(p, target)
		if !found || rel != "" && rel[0] != '/' {
			continue
		}
		if m == nil || len(target) > len(path.Clean(m.Target)) {
			m, host = &ms[i], filepath.Join(ms[i].Source, filepath.FromSlash(rel))
		}
	}
	return host, m, m != nil
}

// home gives the task its HOME. Both runtimes ignore HOME in --env; the
// only way to set it is --home, which binds a host directory there, so
// HOME must be in a writable mount. When HOME is that mount's target, the
// mount is returned: --home replaces its --bind.
func home(t *executors.Task) (args []string, replaced *executors.Mount, err error) {
	h, ok := t.Env["HOME"]
	if !ok {
		return []string{"--no-home"}, nil, nil
	}
	host, m, ok := toHost(t.Mounts, h)
	if !ok || !m.Writable || strings.ContainsAny(h, ":,") {
		return nil, nil, fmt.Errorf("task %q: HOME=%s must be a directory in a writable mount without ':' or ',' in its path: Singularity sets HOME only by binding a host directory there (--home)", t.ID, h)
	}
	if path.Clean(m.Target) == path.Clean(h) {
		replaced = m
	}
	return []string{"--home", host + ":" + path.Clean(h)}, replaced, nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envFlags passes t.Env but HOME as --env K=V, sorted, refusing what the
// runtime would not pass on exactly.
func envFlags(rt Runtime, t *executors.Task) ([]string, error) {
	var args []string
	for _, k := range slices.Sorted(maps.Keys(t.Env)) {
		v := t.Env[k]
		if k == "HOME" {
			continue
		}
		if !envName.MatchString(k) {
			return nil, fmt.Errorf("task %q: %q is not an environment variable name the container runtime accepts", t.ID, k)
		}
		if err := envSurvives(rt, k, v); err != nil {
			return nil, fmt.Errorf("task %q: the value of %s cannot be passed into the container intact: %v", t.ID, k, err)
		}
		args = append(args, "--env", k+"="+v)
	}
	return args, nil
}

// envSurvives checks that K=V comes out of the runtime as it went in. The
// --env flag is a pflag string-to-string map: one '=' and the value loses
// surrounding double quotes; more and the whole is read as a CSV record,
// split at commas. Runtimes without --no-eval also split at commas (their
// flag was a string slice) and evaluate the value in a shell.
func envSurvives(rt Runtime, k, v string) error {
	if !rt.noEval() {
		if strings.ContainsAny(v, ",\"'`$\\\n") {
			return fmt.Errorf("%s %s would split it at a comma or evaluate it in a shell; Apptainer 1.1 or SingularityCE 3.10 and later can pass it", rt.Name, rt.Version)
		}
		return nil
	}
	kv := k + "=" + v
	var pairs []string
	if strings.Count(kv, "=") == 1 {
		pairs = []string{strings.Trim(kv, `"`)}
	} else if rec, err := csv.NewReader(strings.NewReader(kv)).Read(); err == nil {
		pairs = rec
	}
	if len(pairs) != 1 || pairs[0] != kv {
		return fmt.Errorf("%s's --env flag would alter it (a value with '=' cannot also hold ',', '\"' or a line break, and none can end in '\"')", rt.Name)
	}
	return nil
}
