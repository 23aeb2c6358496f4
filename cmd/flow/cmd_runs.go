package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/flow-cwl/flow/provenance"
)

// runsOptions is "flow runs [-o json] [-n 20] [--db FILE]".
type runsOptions struct {
	DB     string
	Output string // "text" or "json"
	Limit  int
	Daemon daemonFlags // with a URL, the daemon's runs instead
}

// cmdRuns is "flow runs": parse, then runRuns.
func cmdRuns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o runsOptions
	fs := flag.NewFlagSet("flow runs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flow runs [-o text|json] [-n N] [--db FILE]\n\nLists recorded runs, newest first.\n\nflags:")
		fs.PrintDefaults()
	}
	addDBFlag(fs, &o.DB)
	addDaemonFlags(fs, &o.Daemon)
	fs.IntVar(&o.Limit, "n", 20, "show the `N` newest runs (0: all)")
	if _, err := parseFlags(fs, args, 0, 0); err != nil {
		return err
	}
	if o.Limit < 0 {
		return usagef("-n must be 0 or more, found %d", o.Limit)
	}
	o.Output = o.Daemon.Output
	if o.Daemon.URL != "" || os.Getenv("FLOW_URL") != "" {
		return runsRemote(ctx, o.Daemon, o.Limit, stdout)
	}
	return runRuns(ctx, o, stdout)
}

// runRuns lists the newest runs on w. A database that does not exist yet
// holds no runs; that is not an error.
func runRuns(ctx context.Context, o runsOptions, w io.Writer) error {
	db, err := openDB(o.DB, false)
	var nodb *noDatabaseError
	if errors.As(err, &nodb) {
		if o.Output == "json" {
			return printJSON(w, []*provenance.Run{})
		}
		_, err = fmt.Fprintln(w, nodb.Error())
		return err
	}
	if err != nil {
		return err
	}
	defer db.Close()
	runs, err := db.ListRuns(ctx, o.Limit, "")
	if err != nil {
		return err
	}
	host := hostname()
	for _, r := range runs {
		r.State = r.Alive(host)
	}
	if o.Output == "json" {
		if runs == nil {
			runs = []*provenance.Run{}
		}
		return printJSON(w, runs)
	}
	if len(runs) == 0 {
		path, _ := dbPath(o.DB)
		_, err = fmt.Fprintln(w, (&noDatabaseError{path: path}).Error())
		return err
	}
	return writeRunsTable(w, runs)
}

// writeRunsTable prints one aligned line per run.
func writeRunsTable(w io.Writer, runs []*provenance.Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tWORKFLOW\tSTATE\tSTARTED\tDURATION")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, dash(workflowName(r.Workflow)), r.State,
			formatTime(r.Started), elapsed(r.Started, r.Finished))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range runs {
		if r.State == provenance.RunDamaged {
			fmt.Fprintf(w, "run %s: %s\n", r.ID, oneLine(r.Error))
		}
		if r.State == provenance.RunDied {
			fmt.Fprintf(w, "run %s died with its flow process; to continue: flow run --resume %s\n", r.ID, r.ID)
		}
	}
	return nil
}

// workflowName is the base name of a workflow reference, keeping its
// #fragment: /data/wf/main.cwl#align is main.cwl#align.
func workflowName(ref string) string {
	if ref == "" {
		return ""
	}
	path, frag, hasFrag := strings.Cut(ref, "#")
	path = strings.TrimPrefix(path, "file://")
	name := filepath.Base(path)
	if hasFrag {
		name += "#" + frag
	}
	return name
}
