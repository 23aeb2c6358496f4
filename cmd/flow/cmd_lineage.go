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
	DB   string
	Path string
}

// cmdLineage is "flow lineage": parse, then runLineage.
func cmdLineage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o lineageOptions
	fs := flag.NewFlagSet("flow lineage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: flow lineage PATH [--db FILE]

Tells which run and step made a file, with what command line and from
which inputs, and so on back through the inputs that earlier runs made.

flags:`)
		fs.PrintDefaults()
	}
	addDBFlag(fs, &o.DB)
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
	// Lineage makes the path absolute, and looks up a file it has no
	// record of by its content.
	node, err := provenance.Lineage(ctx, db, o.Path)
	if err != nil {
		return err
	}
	return provenance.WriteLineageText(w, node)
}
