package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/flow-cwl/flow/provenance"
)

// lineageOptions is "flow lineage PATH [--db FILE]".
type lineageOptions struct {
	DB        string
	Path      string
	ByContent bool
}

// cmdLineage is "flow lineage": parse, then runLineage.
func cmdLineage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o lineageOptions
	fs := flag.NewFlagSet("flow lineage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: flow lineage PATH [--by-content] [--db FILE]

Tells which run and step made a file, with what command line and from
which inputs, and so on back through the inputs that earlier runs made.
The answer is for the run that wrote PATH; with --by-content, for the
newest run that made the same bytes anywhere (also for a file flow has
no record of at PATH).

flags:`)
		fs.PrintDefaults()
	}
	addDBFlag(fs, &o.DB)
	fs.BoolVar(&o.ByContent, "by-content", false, "look the file up by its content rather than by the run that wrote PATH")
	pos, err := parseFlags(fs, args, 1, 1)
	if err != nil {
		return err
	}
	o.Path = pos[0]
	return runLineage(ctx, o, stdout)
}

// runLineage prints the tree of runs and steps behind o.Path.
func runLineage(ctx context.Context, o lineageOptions, w io.Writer) error {
	db, err := openDB(o.DB, false)
	if err != nil {
		return err
	}
	defer db.Close()
	node, err := provenance.Lineage(ctx, db, o.Path, provenance.LineageOptions{ByContent: o.ByContent})
	if err != nil {
		return err
	}
	return provenance.WriteLineageText(w, node)
}
