package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/flow-cwl/flow/engine"
)

// cmdGraph is "flow graph [--format dot|mermaid] DOCUMENT".
func cmdGraph(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flow graph", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "dot", "`dot` (Graphviz) or mermaid")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flow graph [--format dot|mermaid] DOCUMENT[#id]\n\nflags:")
		fs.PrintDefaults()
	}
	flowArgs, positional, extra := splitArgs(fs, args)
	if err := fs.Parse(flowArgs); err != nil {
		return parseError(err)
	}
	if len(positional) != 1 || len(extra) > 0 {
		fs.Usage()
		return usagef("flow graph takes exactly one document")
	}
	return runGraph(positional[0], *format, stdout)
}

// runGraph draws the step graph of the workflow in doc on w.
func runGraph(doc, format string, w io.Writer) error {
	if format != "dot" && format != "mermaid" {
		return usagef("unknown graph format %q; use dot or mermaid", format)
	}
	p, err := loadChecked(doc)
	if err != nil {
		return err
	}
	if p.Class != "Workflow" {
		return fmt.Errorf("%s is a %s, not a Workflow; only workflows have a step graph", doc, p.Class)
	}
	g, err := engine.Graph(p)
	if err != nil {
		return err
	}
	if format == "mermaid" {
		return g.Mermaid(w)
	}
	return g.DOT(w)
}
