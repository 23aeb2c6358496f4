package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/client"
	"github.com/flow-cwl/flow/internal/logging"
)

const workflowsUsage = `usage: flow workflows list
       flow workflows register NAME VERSION DOCUMENT
       flow workflows trigger NAME [--version V] [-i name=value ...] [--cluster C] [-f]

The workflows registered with a flowd daemon (--compute_url or FLOW_URL):
register sends a workflow's documents once under a name and version;
trigger runs one by name, with inputs given as name=value (numbers and
true/false are typed; a value starting with { or [ is JSON).
`

// cmdWorkflows is "flow workflows list|register|trigger".
func cmdWorkflows(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, workflowsUsage)
		return usagef("flow workflows needs a command: list, register or trigger")
	}
	switch args[0] {
	case "list", "ls":
		return workflowsList(ctx, args[1:], stdout, stderr)
	case "register":
		return workflowsRegister(ctx, args[1:], stdout, stderr)
	case "trigger":
		return workflowsTrigger(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, workflowsUsage)
	return usagef("unknown workflows command %q", args[0])
}

func workflowsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, d, _, err := daemonCommand("flow workflows list", "flow workflows list", args, 0, stderr, nil)
	if err != nil {
		return err
	}
	var ws []api.Workflow
	if err := c.JSON(ctx, http.MethodGet, "/api/v1/workflows", nil, &ws); err != nil {
		return err
	}
	if d.Output == "json" {
		return printJSON(stdout, ws)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tDOCUMENT\tREGISTERED")
	for _, w := range ws {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.Name, w.Version, w.Main, formatTime(w.Created))
	}
	return tw.Flush()
}

func workflowsRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, _, rest, err := daemonCommand("flow workflows register", "flow workflows register NAME VERSION DOCUMENT", args, 3, stderr, nil)
	if err != nil {
		return err
	}
	b, err := client.Pack(rest[2], nil)
	if err != nil {
		return err
	}
	q := url.Values{"name": {rest[0]}, "version": {rest[1]}}
	if err := c.Register(ctx, b, q.Encode()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registered %s version %s (%d files)\n", rest[0], rest[1], len(b.Files))
	return nil
}

func workflowsTrigger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var t api.Trigger
	var inputs []string
	var follow bool
	c, _, rest, err := daemonCommand("flow workflows trigger", "flow workflows trigger NAME [-i name=value ...] [-f]", args, 1, stderr,
		func(fs *flag.FlagSet) {
			fs.StringVar(&t.Version, "version", "", "the `version` to run (default: the newest)")
			fs.StringVar(&t.Cluster, "cluster", "", "run on the daemon's cluster `name`")
			fs.Func("i", "an input as `name=value` (repeatable)", func(s string) error { inputs = append(inputs, s); return nil })
			fs.BoolVar(&follow, "f", false, "follow the run until it ends")
		})
	if err != nil {
		return err
	}
	if t.Inputs, err = parseAssignments(inputs); err != nil {
		return err
	}
	body, _ := json.Marshal(t)
	var sub api.Submitted
	if err := c.JSON(ctx, http.MethodPost, "/api/v1/workflows/"+url.PathEscape(rest[0])+"/runs", body, &sub); err != nil {
		return err
	}
	if !follow {
		fmt.Fprintln(stdout, sub.ID)
		return nil
	}
	log := logging.New(stderr, logging.Options{}).With().Str("run", sub.ID).Logger()
	run, err := c.Follow(ctx, sub.ID, 0, func(e api.Event) { logEvent(log, e) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\t%s\t%s\n", run.ID, run.State, run.Error)
	if run.State != api.Complete {
		return errRemoteFailed
	}
	return nil
}

// parseAssignments reads name=value inputs: JSON for objects, arrays,
// numbers and booleans, text otherwise.
func parseAssignments(as []string) (map[string]any, error) {
	out := map[string]any{}
	for _, a := range as {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("-i %q: an input is name=value", a)
		}
		var x any
		switch {
		case strings.HasPrefix(v, "{") || strings.HasPrefix(v, "["):
			if err := json.Unmarshal([]byte(v), &x); err != nil {
				return nil, usagef("-i %s: not JSON: %v", k, err)
			}
		case v == "true" || v == "false":
			x = v == "true"
		default:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				x = n
			} else if f, err := strconv.ParseFloat(v, 64); err == nil {
				x = f
			} else {
				x = v
			}
		}
		out[k] = x
	}
	return out, nil
}
