package main

import (
	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/schema"
)

// loadOptions are how a command loads its document.
type loadOptions struct {
	// check, when not nil, must allow every file the document reads or
	// names (see schema.Loader.SetPathCheck).
	check func(string) error
	// enableDev reads documents of CWL's development releases.
	enableDev bool
	// warn, when not nil, is told each problem that may make the run
	// fail but need not (see schema.Check); nil drops them.
	warn func(*schema.Error)
}

// loadChecked loads a document and checks the step graph of every
// workflow in it, so that a cycle or a dangling source is reported before
// anything runs, at the place in the document that causes it.
func loadChecked(doc string) (*schema.Process, error) { return loadWith(doc, loadOptions{}) }

// loadWith is loadChecked with options: it loads the document, then
// checks the step graphs and how the steps fit together.
func loadWith(doc string, o loadOptions) (*schema.Process, error) {
	p, _, err := loadWithFiles(doc, o)
	return p, err
}

// loadWithFiles is loadWith that also returns the local files the load
// read (schema.Loader.Files): what a run records as its documents.
func loadWithFiles(doc string, o loadOptions) (*schema.Process, []string, error) {
	l := o.loader()
	p, err := l.Load(doc)
	if err != nil {
		return nil, nil, err
	}
	return p, l.Files(), o.checkLoaded(p)
}

func (o loadOptions) loader() *schema.Loader {
	l := schema.NewLoader()
	if o.check != nil {
		l.SetPathCheck(o.check)
	}
	if o.enableDev {
		l.EnableDev()
	}
	return l
}

// checkLoaded checks what loading does not: the step graphs and how the
// steps fit together.
func (o loadOptions) checkLoaded(p *schema.Process) error {
	if err := engine.Check(p); err != nil {
		return err
	}
	warnings, err := schema.Check(p)
	if err != nil {
		return err
	}
	if o.warn != nil {
		for _, w := range warnings {
			o.warn(w)
		}
	}
	return nil
}
