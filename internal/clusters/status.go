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
	return st
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
