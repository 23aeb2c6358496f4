package main

import (
	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/schema"
)

// loadChecked loads a document and checks the step graph of every
// workflow in it, so that a cycle or a dangling source is reported before
// anything runs, at the place in the document that causes it.
func loadChecked(doc string) (*schema.Process, error) { return loadConfined(doc, nil) }

// loadConfined is loadChecked with the loader's path check (see
// schema.Loader.SetPathCheck): check, when not nil, must allow every file
// the document reads or names.
func loadConfined(doc string, check func(string) error) (*schema.Process, error) {
	p, _, err := loadConfinedFiles(doc, check)
	return p, err
}

// loadConfinedFiles is loadConfined that also returns the local files the
// load read (schema.Loader.Files): what a run records as its documents.
func loadConfinedFiles(doc string, check func(string) error) (*schema.Process, []string, error) {
	l := schema.NewLoader()
	if check != nil {
		l.SetPathCheck(check)
	}
	p, err := l.Load(doc)
	if err != nil {
		return nil, nil, err
	}
	if err := engine.Check(p); err != nil {
		return nil, nil, err
	}
	return p, l.Files(), nil
}
