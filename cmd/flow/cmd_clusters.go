package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/internal/clusters"
)

const clustersUsage = `usage: flow clusters status [--compute-config FILE] [-o text|json]

Checks every cluster of the compute configuration at once: can flow reach
it (and how fast), which Slurm partitions are up, and how much space is
free where its workdir is.

flags:
`

// cmdClusters is "flow clusters": status is its only command so far.
func cmdClusters(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "status" {
		fmt.Fprint(stderr, clustersUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return flag.ErrHelp
		}
		return usagef("flow clusters needs a command: status")
	}
	var cfgPath, output string
	fs := flag.NewFlagSet("flow clusters status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, clustersUsage); fs.PrintDefaults() }
	fs.StringVar(&cfgPath, "compute-config", "", "the compute configuration `file` (default: clusters.yaml in the config directory)")
	addOutputFlag(fs, &output)
	if _, err := parseFlags(fs, args[1:], 0, 0); err != nil {
		return err
	}
	if cfgPath == "" {
		var err error
		if cfgPath, err = clusters.DefaultPath(); err != nil {
			return err
		}
	}
	cfg, err := clusters.Load(cfgPath)
	if err != nil {
		return err
	}
	statuses := probeAll(ctx, cfg.Clusters)
	if output == "json" {
		return printJSON(stdout, statuses)
	}
	return printStatuses(stdout, statuses)
}

// probeAll checks the clusters in parallel; a slow one does not hold up
// the others beyond its own timeout.
func probeAll(ctx context.Context, cs []clusters.Cluster) []clusters.Status {
	out := make([]clusters.Status, len(cs))
	var wg sync.WaitGroup
	for i := range cs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			c := &cs[i]
			r, _, closeRunner, err := clusterRunner(ctx, c, zerolog.Nop())
			if err != nil {
				out[i] = clusters.Status{Name: c.Name, Workdir: c.Workdir, Error: err.Error()}
				return
			}
			defer closeRunner()
			out[i] = clusters.Probe(ctx, c, r, shell.Quote)
		}(i)
	}
	wg.Wait()
	return out
}

func printStatuses(w io.Writer, sts []clusters.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tREACHABLE\tLATENCY\tPARTITIONS\tFREE IN WORKDIR")
	for _, s := range sts {
		if !s.Reachable {
			fmt.Fprintf(tw, "%s\tno\t-\t-\t-\n", s.Name)
			continue
		}
		free := "-"
		if s.FreeBytes >= 0 {
			free = formatSize(s.FreeBytes)
		}
		fmt.Fprintf(tw, "%s\tyes\t%s\t%s\t%s\n", s.Name, s.Latency.Round(time.Millisecond), partitionSummary(s.Partitions), free)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range sts {
		if s.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", s.Name, oneLine(s.Error))
		}
		if s.RuntimeError != "" {
			fmt.Fprintf(w, "%s: %s\n", s.Name, oneLine(s.RuntimeError))
		} else if s.Runtime != "" {
			fmt.Fprintf(w, "%s: containers run with %s\n", s.Name, oneLine(s.Runtime))
		}
	}
	return nil
}

// partitionSummary reads like "debug* up (1 idle), gpu DOWN (2 down)".
func partitionSummary(ps []clusters.Partition) string {
	if len(ps) == 0 {
		return "none"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		name := p.Name
		if p.Default {
			name += "*"
		}
		avail := p.Avail
		if !p.Up {
			avail = strings.ToUpper(avail)
		}
		var nodes []string
		for state, n := range p.Nodes {
			nodes = append(nodes, fmt.Sprintf("%d %s", n, state))
		}
		sort.Strings(nodes)
		parts[i] = fmt.Sprintf("%s %s (%s)", name, avail, strings.Join(nodes, ", "))
	}
	return strings.Join(parts, ", ")
}
