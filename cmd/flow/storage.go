package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/schema"
	"github.com/flow-cwl/flow/storage"
)

// Remote inputs and outputs (s3://, http(s)://) are the storage
// package's: inputs are fetched into the download cache before the run
// starts, so the engine, the step cache and staging see local files;
// outputs for an s3:// --outdir are moved into a local directory as
// usual, then uploaded, and their locations become the objects' URLs.

// downloadDir is the download cache, beside the provenance database
// ($XDG_DATA_HOME/flow/downloads by default; each flowd team's own).
func downloadDir(dbFlag string) (string, error) {
	db, err := dbPath(dbFlag)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(db), "downloads"), nil
}

// hasRemote reports whether any File or Directory in v is remote.
func hasRemote(v any) bool {
	found := false
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case []any:
			for _, it := range t {
				walk(it)
			}
		case map[string]any:
			if loc, ok := t["location"].(string); ok && storage.Remote(loc) {
				found = true
			}
			for _, it := range t {
				walk(it)
			}
		}
	}
	walk(v)
	return found
}

// openDownloads is the download cache, reporting progress in the log.
func openDownloads(dbFlag string, log zerolog.Logger) (*storage.Cache, error) {
	st, err := storage.Open()
	if err != nil {
		return nil, err
	}
	dir, err := downloadDir(dbFlag)
	if err != nil {
		return nil, err
	}
	return &storage.Cache{Dir: dir, Stores: st, Progress: logTransfer(log, "download")}, nil
}

// logTransfer logs the start, progress (every 10%) and end of transfers
// of 32 MiB or more, whose time a user notices.
func logTransfer(log zerolog.Logger, what string) func(storage.Transfer) {
	lastLogged := map[string]int64{}
	return func(t storage.Transfer) {
		if t.Total >= 0 && t.Total < 32<<20 {
			return
		}
		ev := log.Info().Str("url", t.URL).Int64("size", t.Total)
		switch {
		case t.Ended:
			ev.Int64("done", t.Done).Msg(what + " done")
		case t.Done == 0:
			ev.Msg(what + " started")
		case t.Total > 0 && t.Done-lastLogged[t.URL] >= t.Total/10:
			lastLogged[t.URL] = t.Done
			ev.Int64("done", t.Done).Msg(fmt.Sprintf("%s %d%%", what, t.Done*100/t.Total))
		}
	}
}

// showTransfer adds the progress display's hook, when there is one, to a
// transfer's progress callback.
func showTransfer(next func(storage.Transfer), show func(kind, name string, done, total int64, ended bool), kind string) func(storage.Transfer) {
	if show == nil {
		return next
	}
	return func(t storage.Transfer) {
		show(kind, t.URL, t.Done, t.Total, t.Ended)
		next(t)
	}
}

// fetchRemoteInputs makes every remote File and Directory of inputs a
// file in the download cache; an input that cannot be fetched is an
// error that names it, its URL and why, at its place in the job file.
// With --allow-path, the cache (which flow itself wrote) is allowed too,
// and the path check that says so is returned in place of check.
func fetchRemoteInputs(ctx context.Context, o *runOptions, p *schema.Process, inputs map[string]any, inJob map[string]schema.Pos, check func(string) error, log zerolog.Logger) (func(string) error, error) {
	if !hasRemote(inputs) {
		return check, nil
	}
	c, err := openDownloads(o.DB, log)
	if err != nil {
		return nil, err
	}
	c.Progress = showTransfer(c.Progress, o.transfer, "download")
	if err := c.Resolve(ctx, inputs, secondaryPatterns(p), false); err != nil {
		return nil, runError(o.Document, inJob, err)
	}
	if len(o.AllowPaths) == 0 {
		return check, nil
	}
	o.AllowPaths = append(o.AllowPaths, c.Dir)
	return pathCheck(o.AllowPaths)
}

// checkOutdir refuses an --outdir URL that cannot take the outputs,
// before anything runs.
func checkOutdir(o runOptions) error {
	if !strings.Contains(o.Outdir, "://") {
		return nil
	}
	if !strings.HasPrefix(o.Outdir, "s3://") {
		return usagef("--outdir %s: outputs go to a local directory or an s3:// prefix", o.Outdir)
	}
	if o.Compute && (o.ComputeURL != "" || os.Getenv("FLOW_URL") != "") {
		return usagef("--outdir %s: a daemon's run brings its outputs to a local directory; copy them to S3 from there", o.Outdir)
	}
	return nil
}

// relocateOutputs moves the outputs into --outdir; for an s3:// outdir,
// into a local directory first, then up to the prefix. A failed upload
// fails the run with the command that continues it, which uploads only
// what is missing.
func relocateOutputs(ctx context.Context, eng *engine.Engine, result map[string]any, o runOptions, rec *recording, log zerolog.Logger) (map[string]any, error) {
	if !storage.Remote(o.Outdir) {
		return eng.Relocate(ctx, result, o.Outdir)
	}
	dir, err := downloadDir(o.DB)
	if err != nil {
		return nil, err
	}
	id := "norecord"
	if rec != nil {
		id = rec.run.ID
	}
	local := filepath.Join(filepath.Dir(dir), "outputs", id)
	out, err := eng.Relocate(ctx, result, local)
	if err != nil {
		return nil, err
	}
	st, err := storage.Open()
	if err != nil {
		return nil, err
	}
	sent, err := st.Upload(ctx, out, local, o.Outdir, showTransfer(logTransfer(log, "upload"), o.transfer, "upload"))
	if err != nil {
		if rec != nil {
			return nil, fmt.Errorf("%w (to continue: flow run --resume %s)", err, rec.run.ID)
		}
		return nil, err
	}
	log.Info().Int("files", sent).Str("outdir", o.Outdir).Msg("outputs uploaded")
	os.RemoveAll(local)
	return out, nil
}

// checkRemoteInputs checks that every remote input of the job file
// exists (flow validate DOCUMENT JOB), with the required secondary files
// doc's inputs name beside them, fetching nothing.
func checkRemoteInputs(ctx context.Context, doc, jobFile string) error {
	job, err := schema.LoadInputs(jobFile)
	if err != nil {
		return err
	}
	if !hasRemote(job.Values) {
		return nil
	}
	c, err := openDownloads("", zerolog.Nop())
	if err != nil {
		return err
	}
	inJob := map[string]schema.Pos{}
	if job.Node != nil {
		for i, k := range job.Node.Keys {
			inJob[k] = job.Node.Vals[i].Pos
		}
	}
	var secondary map[string][]storage.Secondary
	if p, err := (loadOptions{}).loader().Load(doc); err == nil { // else validate reports it
		secondary = secondaryPatterns(p)
	}
	if err := c.Resolve(ctx, job.Values, secondary, true); err != nil {
		return runError(jobFile, inJob, err)
	}
	return nil
}

// secondaryPatterns are the secondaryFiles patterns of p's inputs that
// name a file beside the primary, for the storage package to fetch from
// beside a remote primary. A pattern that is an expression is left to
// the engine, which evaluates it once the primary is local; a required
// field that is an expression makes the file fetched when it exists, and
// the engine decides.
func secondaryPatterns(p *schema.Process) map[string][]storage.Secondary {
	out := map[string][]storage.Secondary{}
	for _, in := range p.Inputs {
		for _, sf := range in.Secondary {
			pat, ok := sf.Pattern.(string)
			if !ok || pat == "" || expr.IsExpression(pat) {
				continue
			}
			required := true
			if strings.HasSuffix(pat, "?") {
				pat, required = strings.TrimSuffix(pat, "?"), false
			}
			if sf.Required != nil {
				b, isBool := sf.Required.(bool)
				required = isBool && b
			}
			out[in.ID] = append(out[in.ID], storage.Secondary{Pattern: pat, Required: required})
		}
	}
	return out
}
