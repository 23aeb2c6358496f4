package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/flow-cwl/flow/schema"
)

// cmdValidate is "flow validate DOCUMENT [JOB]": load and check, run
// nothing; with a job file, also check that its remote inputs exist.
func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flow validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flow validate [--enable-dev] DOCUMENT[#id] [JOB]")
		fs.PrintDefaults()
	}
	enableDev := fs.Bool("enable-dev", false, "read documents of CWL's development releases (cwlVersion v1.2.0-dev5 and the like)")
	flowArgs, positional, extra := splitArgs(fs, args)
	if err := fs.Parse(flowArgs); err != nil {
		return parseError(err)
	}
	if len(positional) < 1 || len(positional) > 2 || len(extra) > 0 {
		fs.Usage()
		return usagef("flow validate takes one document and at most one job file")
	}
	if len(positional) == 2 { // remote inputs are checked before the document is described
		if err := checkRemoteInputs(ctx, positional[0], positional[1]); err != nil {
			return err
		}
	}
	return validate(positional[0], loadOptions{enableDev: *enableDev}, stdout, stderr)
}

// runValidate loads doc and describes it on w when it is valid.
func runValidate(doc string, w io.Writer) error {
	return validate(doc, loadOptions{}, w, io.Discard)
}

// validate loads doc with o and describes it on w when it is valid; each
// warning is a line on stderr, so a valid document with warnings still
// exits 0. A $graph without a main process has each of its processes
// checked.
func validate(doc string, o loadOptions, w, stderr io.Writer) error {
	o.warn = func(e *schema.Error) { fmt.Fprintf(stderr, "flow: warning: %s\n", message(e)) }
	ps, err := o.loader().LoadAll(doc)
	if err != nil {
		return err
	}
	var parts []string
	for _, p := range ps {
		if err := o.checkLoaded(p); err != nil {
			return err
		}
		parts = append(parts, summary(p))
	}
	if len(ps) > 1 {
		for i, p := range ps {
			parts[i] = "#" + fragment(p.ID) + ": " + parts[i]
		}
	}
	_, err = fmt.Fprintf(w, "%s is valid CWL (%s)\n", doc, strings.Join(parts, "; "))
	return err
}

// fragment is the part of an id after its '#'.
func fragment(id string) string {
	if i := strings.LastIndex(id, "#"); i >= 0 {
		return id[i+1:]
	}
	return id
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
