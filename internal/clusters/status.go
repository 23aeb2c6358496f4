package clusters

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is what `flow clusters status` says about one cluster.
type Status struct {
	Name       string        `json:"name"`
	Reachable  bool          `json:"reachable"`
	Latency    time.Duration `json:"latency_ns"` // one round trip of the probe
	Partitions []Partition   `json:"partitions"`
	Workdir    string        `json:"workdir"`
	FreeBytes  int64         `json:"free_bytes"` // free space where the workdir is
	Error      string        `json:"error,omitempty"`
	// Runtime is what the configured container runtime says its version
	// is; RuntimeError says why it could not be run. Both are empty for a
	// cluster with no containers configured.
	Runtime      string `json:"runtime,omitempty"`
	RuntimeError string `json:"runtime_error,omitempty"`
}

// Partition is a Slurm partition and how its nodes stand.
type Partition struct {
	Name    string         `json:"name"`
	Up      bool           `json:"up"`
	Avail   string         `json:"avail"` // sinfo's %a: up, down, drain, inact
	Default bool           `json:"default"`
	Nodes   map[string]int `json:"nodes"` // node state (idle, mix, alloc, down, drain, ...) → count
}

// Runner runs a script on the cluster's login side.
type Runner interface {
	Run(ctx context.Context, script string) ([]byte, error)
}

// probeScript asks, in one round trip, for the partitions and the free
// space of the workdir (or of its nearest existing parent).
const probeScript = `sinfo -h -o '%%P|%%a|%%D|%%t' || exit 1
echo '--- df'
d=%s
while [ ! -e "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done
df -Pk "$d" | tail -n 1
`

// Probe asks the cluster how it stands. quote quotes a string for the
// remote shell.
func Probe(ctx context.Context, c *Cluster, r Runner, quote func(string) string) Status {
	st := Status{Name: c.Name, Workdir: c.Workdir}
	start := time.Now()
	out, err := r.Run(ctx, fmt.Sprintf(probeScript, quote(c.Workdir)))
	st.Latency = time.Since(start)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Reachable = true
	sinfo, df, _ := strings.Cut(string(out), "--- df\n")
	st.Partitions = parseSinfo(sinfo)
	st.FreeBytes = parseDf(df)
	if c.Containers.HasRuntime() {
		st.Runtime, err = CheckRuntime(ctx, c, r, quote)
		if err != nil {
			st.RuntimeError = err.Error()
		}
	}
	return st
}

// RuntimeScript prints the version of the cluster's container runtime,
// started as jobs start it (RuntimeArgv).
func RuntimeScript(c *Cluster, quote func(string) string) string {
	words := RuntimeArgv(c.Containers, "--version")
	for i, w := range words {
		words[i] = quote(w)
	}
	return "exec " + strings.Join(words, " ") + "\n"
}

// RuntimeArgv is the command line that starts the runtime with args. With
// a module, a login shell (where sites define `module`) loads it first.
func RuntimeArgv(c Containers, args ...string) []string {
	if c.Module == "" {
		return append([]string{c.Runtime()}, args...)
	}
	return append([]string{"bash", "-lc", `module load "$0" && exec "$@"`, c.Module, c.Runtime()}, args...)
}

// CheckRuntime runs the cluster's container runtime (its --version) where
// jobs would, and returns what it printed, or an error naming the runtime
// and the configuration key to fix.
func CheckRuntime(ctx context.Context, c *Cluster, r Runner, quote func(string) string) (string, error) {
	out, err := r.Run(ctx, RuntimeScript(c, quote))
	if err != nil {
		what := c.Containers.Runtime()
		if c.Containers.Singularity != "" {
			what += " (containers.singularity)"
		}
		if c.Containers.Module != "" {
			what += " after module load " + c.Containers.Module + " (containers.module)"
		}
		return "", fmt.Errorf("the container runtime %s does not run on the cluster: %w", what, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// parseSinfo reads `sinfo -h -o '%P|%a|%D|%t'`: one line per partition
// and node state, the default partition's name ending in '*'.
func parseSinfo(text string) []Partition {
	var parts []Partition
	index := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			continue
		}
		name, def := strings.TrimSuffix(f[0], "*"), strings.HasSuffix(f[0], "*")
		i, ok := index[name]
		if !ok {
			i = len(parts)
			index[name] = i
			parts = append(parts, Partition{Name: name, Avail: f[1], Up: f[1] == "up", Default: def, Nodes: map[string]int{}})
		}
		n, _ := strconv.Atoi(f[2])
		parts[i].Nodes[strings.TrimRight(f[3], "*~#!%$@^-")] += n
	}
	return parts
}

// parseDf reads the last line of `df -Pk`: the fourth field is the free
// space in KiB.
func parseDf(text string) int64 {
	f := strings.Fields(text)
	if len(f) < 4 {
		return -1
	}
	kib, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return -1
	}
	return kib * 1024
}
