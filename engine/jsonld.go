package engine

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/piprate/json-gold/ld"
)

// decodeJSONLD reads the statements of a JSON-LD ontology with json-gold.
// Its contexts must be in the document: checking a format fetches nothing
// from the network or from other files. It returns what it read even
// with an error.
func decodeJSONLD(data []byte, base string) (o *ontology, err error) {
	o = newOntology()
	// json-gold runs on this goroutine: a panic on a strange document is
	// caught here and makes it unreadable, not the run a failure.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed document: %v", r)
		}
	}()
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return o, err
	}
	opts := ld.NewJsonLdOptions(base)
	opts.DocumentLoader = noDocumentLoader{}
	r, err := ld.NewJsonLdProcessor().ToRDF(doc, opts)
	if err != nil {
		return o, err
	}
	ds, ok := r.(*ld.RDFDataset)
	if !ok {
		return o, errors.New("the JSON-LD reader gave no dataset")
	}
	for _, quads := range ds.Graphs {
		for _, q := range quads {
			o.statements++
			if ld.IsIRI(q.Subject) && ld.IsIRI(q.Object) {
				o.add(q.Subject.GetValue(), q.Predicate.GetValue(), q.Object.GetValue())
			}
		}
	}
	return o, nil
}

// noDocumentLoader refuses the remote contexts a JSON-LD document names.
type noDocumentLoader struct{}

func (noDocumentLoader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	return nil, fmt.Errorf("flow loads no context from outside the document (%s)", u)
}
