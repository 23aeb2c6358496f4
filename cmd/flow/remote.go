package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/client"
)

// --run_compute with --compute_url: the run goes to a flowd daemon, which
// runs it on its machine or its clusters. flow sends the workflow's
// documents and the input files, follows the run's events until it ends,
// and downloads the outputs into --outdir, so that the command behaves as
// a local run does: the same output object on stdout, the same exit code.

// daemonClient makes the client for --compute_url (or FLOW_URL) with
// --compute_access_token (or FLOW_TOKEN).
func daemonClient(url, token string) (*client.Client, error) {
	if url == "" {
		url = os.Getenv("FLOW_URL")
	}
	if token == "" {
		token = os.Getenv("FLOW_TOKEN")
	}
	if token == "" {
		return nil, usagef("the daemon at %s needs a token: --compute_access_token TOKEN or FLOW_TOKEN", url)
	}
	return client.New(url, token)
}

// runRemote submits the run to the daemon and follows it to its end.
func runRemote(ctx context.Context, o runOptions, stdout io.Writer, log zerolog.Logger) error {
	c, err := daemonClient(o.ComputeURL, o.ComputeToken)
	if err != nil {
		return err
	}
	p, err := loadChecked(o.Document)
	if err != nil {
		return err
	}
	inputs, _, _, err := readInputs(p, o)
	if err != nil {
		return err
	}
	b, err := client.Pack(o.Document, inputs)
	if err != nil {
		return err
	}
	id, err := c.Submit(ctx, b, o.Cluster, nil)
	if err != nil {
		return err
	}
	log = log.With().Str("run", id).Logger()
	log.Info().Int("files", len(b.Files)).Msg("submitted to the daemon")
	run, err := c.Follow(ctx, id, 0, func(e api.Event) { logEvent(log, e) })
	if err != nil {
		if ctx.Err() != nil { // Ctrl-C: the run goes too
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if cerr := c.Cancel(cctx, id); cerr == nil {
				log.Info().Msg("asked the daemon to cancel the run")
			}
		}
		return err
	}
	if run.State != api.Complete {
		return fmt.Errorf("run %s ended %s: %s: %w", id, run.State, run.Error, errRemoteFailed)
	}
	out, err := c.Outputs(ctx, run, o.Outdir)
	if err != nil {
		return err
	}
	log.Info().Str("outdir", o.Outdir).Msg("run finished")
	return printJSON(stdout, out)
}

// errRemoteFailed marks a run that the daemon ran and that failed.
var errRemoteFailed = errors.New("the run failed")

// logEvent shows the daemon's events as flow's own log would.
func logEvent(log zerolog.Logger, e api.Event) {
	switch e.Kind {
	case "state":
		var st api.StateEvent
		if json.Unmarshal(e.Data, &st) == nil {
			log.Info().Str("state", string(st.State)).Msg("run " + string(st.State))
		}
	case "step":
		var f map[string]any
		if json.Unmarshal(e.Data, &f) == nil {
			msg, _ := f["message"].(string)
			step, _ := f["step"].(string)
			log.Info().Str("step", step).Msg(msg)
		}
	}
}
