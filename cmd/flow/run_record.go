package main

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/schema"
	"github.com/flow-cwl/flow/storage"
)

// What "flow run" keeps: a provenance.Run per run in the database, the
// step cache next to it, and enough of the run (document, inputs,
// cwl:requirements, outdir) to resume it with --resume.

// recording is the provenance side of one run; nil when --no-provenance.
type recording struct {
	store provenance.Store
	run   *provenance.Run
	cache *engine.Cache
	index *provenance.Shared // the cache's index with --cache-db; nil when it is store
	// warning is for the log once the run starts (a resumed run's compute
	// configuration that changed since).
	warning string
}

// dataDir is where flow keeps its database, cache and work directories
// unless told otherwise: beside the default database.
func dataDir() (string, error) {
	p, err := provenance.DefaultPath()
	if err != nil {
		return "", err
	}
	return filepath.Dir(p), nil
}

// startRecording opens the database and creates (or, resuming, reloads)
// the run record.
func startRecording(ctx context.Context, o *runOptions) (*recording, error) {
	if o.NoProvenance {
		if o.Resume != "" {
			return nil, usagef("--resume needs the provenance database; drop --no-provenance")
		}
		return nil, nil
	}
	path := o.DB
	if path == "" {
		var err error
		if path, err = provenance.DefaultPath(); err != nil {
			return nil, err
		}
	}
	// The cache and work directories default to beside the database, and
	// jobs run in other directories: a relative --db must not follow them.
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	store, err := provenance.OpenShared(path, provenance.Options{Timeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("%w; pass --db FILE to record this run elsewhere, or --no-provenance", err)
	}
	rec := &recording{store: store}
	if o.CacheDB != "" && !o.NoCache && filepath.Clean(o.CacheDB) != filepath.Clean(path) {
		// Entries are found by key alone, so the index must be where every
		// run sharing the cache's directory looks: one database for all.
		if rec.index, err = provenance.OpenShared(o.CacheDB, provenance.Options{Timeout: 30 * time.Second}); err != nil {
			store.Close()
			return nil, fmt.Errorf("the step cache's index: %w", err)
		}
	}
	if o.Resume != "" {
		err = rec.reload(ctx, o)
	} else {
		err = rec.create(ctx, o)
	}
	if err != nil {
		store.Close()
		if rec.index != nil {
			rec.index.Close()
		}
		return nil, err
	}
	if !o.NoCache {
		dir := o.CacheDir
		if dir == "" {
			dir = filepath.Join(filepath.Dir(path), "cache")
		}
		// Entries record where their outputs are: a later run from
		// another folder must find them.
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		rec.cache = &engine.Cache{Dir: dir, Store: store}
		if rec.index != nil {
			rec.cache.Store = rec.index
		}
	}
	return rec, nil
}

func (rec *recording) create(ctx context.Context, o *runOptions) error {
	doc, frag, _ := strings.Cut(o.Document, "#")
	abs, err := filepath.Abs(doc)
	if err != nil {
		return err
	}
	digest, err := fileDigest(abs)
	if err != nil {
		return err
	}
	outdir, _ := filepath.Abs(o.Outdir)
	if storage.Remote(o.Outdir) { // an s3:// prefix
		outdir = o.Outdir
	}
	if frag != "" {
		abs += "#" + frag
	}
	id := o.RunID
	if id == "" {
		id = provenance.NewRunID()
	}
	rec.run = &provenance.Run{
		ID: id, Workflow: abs, WorkflowDigest: digest,
		State: provenance.RunRunning, Started: time.Now(), User: userName(), Host: hostname(),
		FlowVersion: buildVersion(), Executor: "local", Outdir: outdir,
		Process: provenance.ThisProcess(),
	}
	return rec.store.CreateRun(ctx, rec.run)
}

// continueRunID looks up --run-id in the database: a run recorded and
// unfinished is resumed (o.Resume is set); one that succeeded is done,
// and its recorded outputs are printed again.
func continueRunID(ctx context.Context, o *runOptions, stdout io.Writer) (done bool, err error) {
	if o.NoProvenance || o.Resume != "" {
		return false, usagef("--run-id needs the provenance database, and no --resume")
	}
	path := o.DB
	if path == "" {
		if path, err = provenance.DefaultPath(); err != nil {
			return false, err
		}
	}
	store, err := provenance.OpenShared(path, provenance.Options{Timeout: 30 * time.Second})
	if err != nil {
		return false, err
	}
	defer store.Close()
	r, err := store.GetRun(ctx, o.RunID)
	switch {
	case errors.Is(err, provenance.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case r.State == provenance.RunSucceeded:
		return true, printJSON(stdout, r.Outputs)
	}
	o.Resume = r.ID
	return false, nil
}

// waitEnded refuses to resume a run whose flow still runs. It gives that
// process a few seconds to end first: a daemon killed with its runs
// starts them again at once, and the kernel may not have ended the old
// processes yet.
func waitEnded(ctx context.Context, r *provenance.Run) error {
	deadline := time.Now().Add(5 * time.Second)
	for r.Process != nil && r.Alive(hostname()) == provenance.RunRunning {
		if time.Now().After(deadline) {
			return fmt.Errorf("run %s is still running (flow process %d); resume it once that process has ended", r.ID, r.Process.PID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// reload picks up a recorded run for --resume: its document, inputs and
// output directory replace what the command line would give.
func (rec *recording) reload(ctx context.Context, o *runOptions) error {
	r, err := rec.store.GetRun(ctx, o.Resume)
	if err != nil {
		return fmt.Errorf("cannot resume run %q: %w", o.Resume, err)
	}
	if r.State == provenance.RunSucceeded {
		return fmt.Errorf("run %s already succeeded; its outputs are in %s", r.ID, r.Outdir)
	}
	if err := waitEnded(ctx, r); err != nil {
		return err
	}
	o.Document, o.Job, o.InputArgs = r.Workflow, "", nil
	if !o.outdirSet {
		o.Outdir = r.Outdir
	}
	// A run continues where it ran: its jobs may still be there.
	if rec.warning, err = resumeCluster(r, o); err != nil {
		return err
	}
	r.State, r.Error, r.Finished = provenance.RunRunning, "", time.Time{}
	r.Host, r.Process = hostname(), provenance.ThisProcess()
	rec.run = r
	return rec.store.UpdateRun(ctx, r)
}

// resumedInputs returns the input object and requirements a resumed run
// was started with.
func (rec *recording) resumedInputs() (map[string]any, []schema.Requirement, error) {
	data, err := json.Marshal(rec.run.Inputs)
	if err != nil {
		return nil, nil, err
	}
	doc, _, _ := strings.Cut(rec.run.Workflow, "#")
	obj, err := schema.ParseInputs(data, filepath.Join(filepath.Dir(doc), "inputs-of-"+rec.run.ID+".json"))
	if err != nil {
		return nil, nil, fmt.Errorf("run %s: the recorded inputs cannot be read: %w", rec.run.ID, err)
	}
	return obj.Values, obj.Requirements, nil
}

// saveInputs stores the input object (with its cwl:requirements) once the
// command line and job file are merged, and the documents the run loaded.
func (rec *recording) saveInputs(ctx context.Context, inputs map[string]any, reqs []schema.Requirement, docs []string, workDir string) error {
	obj := make(map[string]any, len(inputs)+1)
	for k, v := range inputs {
		obj[k] = v
	}
	if len(reqs) > 0 {
		list := make([]any, len(reqs))
		for i, r := range reqs {
			m := map[string]any{"class": r.Class}
			for k, v := range r.Fields {
				m[k] = v
			}
			list[i] = m
		}
		obj["cwl:requirements"] = list
	}
	rec.run.Inputs, rec.run.WorkDir = obj, workDir
	rec.run.Documents = documentRefs(docs)
	return rec.store.UpdateRun(ctx, rec.run)
}

// abandon records a resumed run that could not start again; a nil
// recording passes err through.
func (rec *recording) abandon(ctx context.Context, err error, log zerolog.Logger) error {
	if rec != nil {
		rec.finish(ctx, nil, err, log)
	}
	return err
}

// finish records how the run ended and where its outputs went.
func (rec *recording) finish(ctx context.Context, outputs map[string]any, runErr error, log zerolog.Logger) {
	r := rec.run
	r.Finished, r.Outputs = time.Now(), outputs
	switch {
	case runErr == nil:
		r.State = provenance.RunSucceeded
	case errors.Is(runErr, context.Canceled):
		r.State, r.Error = provenance.RunCancelled, "interrupted"
	default:
		r.State, r.Error = provenance.RunFailed, message(runErr)
	}
	// The record must be written even when ctx was cancelled (Ctrl-C).
	bg := context.WithoutCancel(ctx)
	if err := rec.store.UpdateRun(bg, r); err != nil {
		log.Warn().Err(err).Msg("cannot record how the run ended")
	}
	if outputs != nil {
		if err := rec.store.RecordFiles(bg, r.ID, outputRefs(outputs)); err != nil {
			log.Warn().Err(err).Msg("cannot record the output files")
		}
	}
	if err := rec.store.Close(); err != nil {
		log.Warn().Err(err).Msg("cannot close the provenance database")
	}
	if rec.index != nil {
		if err := rec.index.Close(); err != nil {
			log.Warn().Err(err).Msg("cannot close the step cache's index")
		}
	}
}

// outputRefs lists the final output files with the checksums Relocate
// computed.
func outputRefs(outputs map[string]any) []provenance.FileRef {
	var refs []provenance.FileRef
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case []any:
			for _, it := range t {
				walk(it)
			}
		case map[string]any:
			if t["class"] == "File" {
				sum, _ := t["checksum"].(string)
				size, _ := t["size"].(int64)
				// An output uploaded to S3 has no path; the run's output
				// object records its s3:// location.
				if path, _ := t["path"].(string); path != "" {
					refs = append(refs, provenance.FileRef{Path: path, SHA1: sum, Size: size})
				}
			}
			for _, k := range []string{"secondaryFiles", "listing"} {
				walk(t[k])
			}
			if t["class"] == nil {
				for _, it := range t {
					walk(it)
				}
			}
		}
	}
	walk(outputs)
	return refs
}

// documentRefs names each document by content, so that an export can tell
// a document that changed since the run from the one it used.
func documentRefs(paths []string) []provenance.FileRef {
	var refs []provenance.FileRef
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // the load just read it; one gone since is left out
		}
		sum := sha1.Sum(data)
		refs = append(refs, provenance.FileRef{Path: p, SHA1: "sha1$" + hex.EncodeToString(sum[:]), Size: int64(len(data))})
	}
	return refs
}

func fileDigest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(h[:]), nil
}

func userName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
