package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/api"
)

// flow data copy with --compute_url: the daemon makes the copy, as a task
// it tracks (a run with no workflow); flow follows its events, shows its
// transfer progress, and asks the daemon to cancel it on Ctrl-C, as flow
// run --compute_url does for a run.

func copyByDaemon(ctx context.Context, url, token string, req api.DataCopyRequest, log zerolog.Logger) (copyResult, error) {
	c, err := daemonClient(url, token)
	if err != nil {
		return copyResult{}, err
	}
	id, err := c.SubmitDataCopy(ctx, req)
	if err != nil {
		return copyResult{}, err
	}
	log = log.With().Str("copy", id).Logger()
	log.Info().Msg("submitted to the daemon")
	run, err := c.Follow(ctx, id, 0, func(e api.Event) { logCopyEvent(log, e) })
	if err != nil {
		if ctx.Err() != nil { // Ctrl-C: the copy stops too
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if cerr := c.CancelDataCopy(cctx, id); cerr == nil {
				log.Info().Msg("asked the daemon to cancel the copy")
			}
		}
		return copyResult{}, err
	}
	if run.State != api.Complete {
		return copyResult{}, fmt.Errorf("data copy %s ended %s: %s", id, run.State, run.Error)
	}
	d, err := c.DataCopy(ctx, id)
	if err != nil {
		return copyResult{}, err
	}
	return copyResult{Destination: d.Destination, Bytes: d.BytesDone}, nil
}

// logCopyEvent shows a copy's state changes and its transfers' progress
// (the daemon's flow data copy logs them) as flow's own log would.
func logCopyEvent(log zerolog.Logger, e api.Event) {
	if e.Kind == "state" {
		var st api.StateEvent
		if json.Unmarshal(e.Data, &st) == nil {
			log.Info().Str("state", string(st.State)).Msg("copy " + string(st.State))
		}
		return
	}
	if e.Kind != "log" {
		return
	}
	var f struct {
		Message, URL string
		Size, Done   *int64
	}
	if json.Unmarshal(e.Data, &f) != nil || f.Size == nil {
		return
	}
	ev := log.Info().Str("url", f.URL).Int64("size", *f.Size)
	if f.Done != nil {
		ev = ev.Int64("done", *f.Done)
	}
	ev.Msg(f.Message)
}

// listDataCopies prints the team's copies, newest first.
func listDataCopies(ctx context.Context, url, token string, w io.Writer) error {
	c, err := daemonClient(url, token)
	if err != nil {
		return err
	}
	copies, err := c.DataCopies(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSOURCE\tTO\tBYTES")
	for _, d := range copies {
		bytes := fmt.Sprint(d.BytesDone)
		if d.BytesTotal >= 0 && d.BytesTotal != d.BytesDone {
			bytes = fmt.Sprintf("%d/%d", d.BytesDone, d.BytesTotal)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s:%s\t%s\n", d.ID, d.State, d.Source, d.Cluster, d.To, bytes)
	}
	return tw.Flush()
}

func cancelDataCopy(ctx context.Context, url, token, id string) error {
	c, err := daemonClient(url, token)
	if err != nil {
		return err
	}
	return c.CancelDataCopy(ctx, id)
}
