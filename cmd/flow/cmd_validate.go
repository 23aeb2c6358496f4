package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/flow-cwl/flow/schema"
)

// cmdValidate is "flow validate DOCUMENT": load and check, run nothing.
func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flow validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: flow validate DOCUMENT[#id]") }
	flowArgs, positional, extra := splitArgs(fs, args)
	if err := fs.Parse(flowArgs); err != nil {
		return parseError(err)
	}
	if len(positional) != 1 || len(extra) > 0 {
		fs.Usage()
		return usagef("flow validate takes exactly one document")
	}
	return runValidate(positional[0], stdout)
}

// runValidate loads doc and describes it on w when it is valid.
func runValidate(doc string, w io.Writer) error {
	p, err := loadChecked(doc)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s is valid CWL (%s)\n", doc, summary(p))
	return err
}

// summary is a short description of a process: its class, and for a
// workflow how many steps it has.
func summary(p *schema.Process) string {
	if p.Class != "Workflow" {
		return p.Class
	}
	if len(p.Steps) == 1 {
		return "Workflow, 1 step"
	}
	return fmt.Sprintf("Workflow, %d steps", len(p.Steps))
}
