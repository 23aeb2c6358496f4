package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flow-cwl/flow/provenance"
)

// provOptions is "flow prov RUN --format ro-crate|prov-json [-o PATH] [--db FILE]".
type provOptions struct {
	DB     string
	Run    string
	Format string // "ro-crate" or "prov-json"
	Out    string // the crate's directory; PROV-JSON's file ("" or "-": stdout)
}

// cmdProv is "flow prov": parse, then runProv.
func cmdProv(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o provOptions
	fs := flag.NewFlagSet("flow prov", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: flow prov RUN --format ro-crate -o DIR [--db FILE]
       flow prov RUN --format prov-json [-o FILE] [--db FILE]

Exports a run's provenance as a Workflow Run RO-Crate (a directory with
ro-crate-metadata.json) or as W3C PROV-JSON.

flags:`)
		fs.PrintDefaults()
	}
	addDBFlag(fs, &o.DB)
	fs.StringVar(&o.Format, "format", "", "`ro-crate` or prov-json (required)")
	fs.StringVar(&o.Out, "o", "", "write into `path`: the crate's directory, or PROV-JSON's file (default: stdout)")
	pos, err := parseFlags(fs, args, 1, 1)
	if err != nil {
		return err
	}
	o.Run = pos[0]
	switch {
	case o.Format != "ro-crate" && o.Format != "prov-json":
		return usagef("flow prov needs --format ro-crate or --format prov-json")
	case o.Format == "ro-crate" && (o.Out == "" || o.Out == "-"):
		return usagef("flow prov --format ro-crate needs -o DIR, the directory to make the crate in")
	}
	return runProv(ctx, o, stdout)
}

// runProv writes the run's provenance in o.Format.
func runProv(ctx context.Context, o provOptions, stdout io.Writer) error {
	return withRun(ctx, o.DB, o.Run, func(db *provenance.DB, r *provenance.Run) error {
		if o.Format == "ro-crate" {
			var opts provenance.ROCrateOptions
			if len(r.Documents) == 0 {
				// A run recorded before runs kept their documents: the
				// files its workflow loads today are the best guess, and
				// a workflow that no longer loads leaves only itself.
				if _, docs, err := loadWithFiles(r.Workflow, loadOptions{enableDev: true}); err == nil {
					opts.Documents = docs
				}
			}
			return provenance.WriteROCrateWith(ctx, db, r.ID, o.Out, opts)
		}
		if o.Out == "" || o.Out == "-" {
			return provenance.WritePROVJSON(ctx, db, r.ID, stdout)
		}
		return writeFileAtomic(o.Out, func(w io.Writer) error {
			return provenance.WritePROVJSON(ctx, db, r.ID, w)
		})
	})
}

// writeFileAtomic writes path through a temporary file beside it, so that
// a failed export leaves no half-written file and an earlier one intact.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, there is nothing left to remove
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
