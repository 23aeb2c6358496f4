package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/client"
	"github.com/flow-cwl/flow/internal/logging"
	"github.com/flow-cwl/flow/provenance"
)

// The commands that talk to a flowd daemon: status, cancel, outputs,
// ssh-keys, systems, and runs when given --compute_url (or FLOW_URL).

// daemonFlags are the flags every daemon command takes.
type daemonFlags struct {
	URL, Token, Output string
}

func addDaemonFlags(fs *flag.FlagSet, d *daemonFlags) {
	fs.StringVar(&d.URL, "compute_url", "", "the flowd daemon's `url` (default $FLOW_URL)")
	fs.StringVar(&d.Token, "compute_access_token", "", "the daemon's `token` (default $FLOW_TOKEN)")
	fs.StringVar(&d.Token, "t", "", "short for --compute_access_token")
	addOutputFlag(fs, &d.Output)
}

func (d daemonFlags) client() (*client.Client, error) {
	if d.URL == "" && os.Getenv("FLOW_URL") == "" {
		return nil, usagef("this command asks a flowd daemon: give --compute_url URL or set FLOW_URL")
	}
	return daemonClient(d.URL, d.Token)
}

// daemonCommand parses a daemon command's flags and positional arguments.
func daemonCommand(name, usage string, args []string, n int, stderr io.Writer, extra func(*flag.FlagSet)) (*client.Client, daemonFlags, []string, error) {
	var d daemonFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, "usage: %s\n\nflags:\n", usage); fs.PrintDefaults() }
	addDaemonFlags(fs, &d)
	if extra != nil {
		extra(fs)
	}
	rest, err := parseFlags(fs, args, n, n)
	if err != nil {
		return nil, d, nil, err
	}
	c, err := d.client()
	return c, d, rest, err
}

// cmdStatus is "flow status RUN [-f]": a daemon run's state; -f follows
// its events until it ends.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var follow bool
	c, d, rest, err := daemonCommand("flow status", "flow status RUN [-f] [--compute_url URL]", args, 1, stderr,
		func(fs *flag.FlagSet) { fs.BoolVar(&follow, "f", false, "follow the run's events until it ends") })
	if err != nil {
		return err
	}
	run, err := c.Run(ctx, rest[0])
	if err != nil {
		return err
	}
	if follow && !run.State.Finished() {
		log := logging.New(stderr, logging.Options{})
		if run, err = c.Follow(ctx, run.ID, 0, func(e api.Event) { logEvent(log.With().Str("run", run.ID).Logger(), e) }); err != nil {
			return err
		}
	}
	if d.Output == "json" {
		return printJSON(stdout, run)
	}
	fmt.Fprintf(stdout, "%s\t%s\t%s\n", run.ID, run.State, run.Error)
	return nil
}

// cmdCancel is "flow cancel RUN".
func cmdCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, _, rest, err := daemonCommand("flow cancel", "flow cancel RUN [--compute_url URL]", args, 1, stderr, nil)
	if err != nil {
		return err
	}
	if err := c.Cancel(ctx, rest[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run %s is being cancelled\n", rest[0])
	return nil
}

// cmdOutputs is "flow outputs RUN --outdir DIR": download a finished
// run's outputs and print its output object.
func cmdOutputs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	outdir := "."
	c, _, rest, err := daemonCommand("flow outputs", "flow outputs RUN [--outdir DIR] [--compute_url URL]", args, 1, stderr,
		func(fs *flag.FlagSet) { fs.StringVar(&outdir, "outdir", ".", "download into `dir`") })
	if err != nil {
		return err
	}
	run, err := c.Run(ctx, rest[0])
	if err != nil {
		return err
	}
	if run.State != api.Complete {
		return fmt.Errorf("run %s is %s; only a complete run has outputs", run.ID, run.State)
	}
	out, err := c.Outputs(ctx, run, outdir)
	if err != nil {
		return err
	}
	return printJSON(stdout, out)
}

// runsRemote is "flow runs --compute_url URL": the team's runs.
func runsRemote(ctx context.Context, d daemonFlags, limit int, stdout io.Writer) error {
	c, err := d.client()
	if err != nil {
		return err
	}
	list, err := c.Runs(ctx, limit, "")
	if err != nil {
		return err
	}
	if d.Output == "json" {
		return printJSON(stdout, list.Runs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTATE\tSUBMITTED\tWORKFLOW")
	for _, r := range list.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.State, formatTime(r.Submitted), r.Workflow)
	}
	return tw.Flush()
}

// cmdSSHKeys is "flow ssh-keys keygen [NAME] | ls".
func cmdSSHKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "keygen" && args[0] != "ls") {
		return usagef("usage: flow ssh-keys keygen [--name NAME] | ls")
	}
	var name string
	c, d, _, err := daemonCommand("flow ssh-keys", "flow ssh-keys keygen [--name NAME] | ls", args[1:], 0, stderr,
		func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "default", "what the key is for, e.g. a cluster's name")
		})
	if err != nil {
		return err
	}
	var keys []api.SSHKey
	if args[0] == "keygen" {
		var k api.SSHKey
		body, _ := json.Marshal(map[string]string{"name": name})
		if err := c.JSON(ctx, http.MethodPost, "/api/v1/ssh-keys", body, &k); err != nil {
			return err
		}
		keys = []api.SSHKey{k}
	} else if err := c.JSON(ctx, http.MethodGet, "/api/v1/ssh-keys", nil, &keys); err != nil {
		return err
	}
	if d.Output == "json" {
		return printJSON(stdout, keys)
	}
	for _, k := range keys {
		fmt.Fprintf(stdout, "%s %s\n", k.PublicKey, k.Name)
	}
	return nil
}

// cmdSystems is "flow systems status": the daemon's clusters.
func cmdSystems(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "status" {
		return usagef("usage: flow systems status [--compute_url URL]")
	}
	c, _, _, err := daemonCommand("flow systems status", "flow systems status [--compute_url URL]", args[1:], 0, stderr, nil)
	if err != nil {
		return err
	}
	var out json.RawMessage
	if err := c.JSON(ctx, http.MethodGet, "/api/v1/systems", nil, &out); err != nil {
		return err
	}
	return printJSON(stdout, out)
}

// steps returns a daemon run's job attempts.
func steps(ctx context.Context, c *client.Client, id string) ([]*provenance.Attempt, error) {
	var as []*provenance.Attempt
	err := c.JSON(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(id)+"/steps", nil, &as)
	return as, err
}

// showRemote is "flow show RUN" against the daemon.
func showRemote(ctx context.Context, o showOptions, w io.Writer) error {
	c, err := o.Daemon.client()
	if err != nil {
		return err
	}
	run, err := c.Run(ctx, o.Run)
	if err != nil {
		return err
	}
	as, err := steps(ctx, c, run.ID)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return printJSON(w, struct {
			Run   *api.Run              `json:"run"`
			Steps []*provenance.Attempt `json:"steps"`
		}{run, as})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{{"run", run.ID}, {"team", run.Team}, {"workflow", run.Workflow}, {"state", string(run.State)},
		{"error", oneLine(run.Error)}, {"submitted", formatTime(run.Submitted)}, {"cluster", run.Cluster}} {
		if kv[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeStepsTable(w, as)
}

// logsRemote is "flow logs RUN [STEP]" against the daemon.
func logsRemote(ctx context.Context, o logsOptions, w io.Writer) error {
	c, err := o.Daemon.client()
	if err != nil {
		return err
	}
	as, err := steps(ctx, c, o.Run)
	if err != nil {
		return err
	}
	jobs := latestAttempts(as)
	if o.Step == "" {
		return writeLogsList(w, o.Run, jobs)
	}
	a, err := selectJob(jobs, o.Step)
	if err != nil {
		return err
	}
	stream := "stderr"
	if o.Stdout {
		stream = "stdout"
	}
	path := "/api/v1/runs/" + url.PathEscape(o.Run) + "/logs/" + a.Job + "?stream=" + stream
	return c.Copy(ctx, path, w)
}
