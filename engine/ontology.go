package engine

import (
	"encoding/xml"
	"io"
	"net/url"
	"os"
	"regexp"
	"sync"

	"github.com/flow-cwl/flow/schema"
)

// Format checking: a file's format matches a parameter's format when they
// are equal or when an ontology named in $schemas (for example EDAM, as
// RDF/XML) says the file's format is a subclass or an equivalent of it.

var ontologies sync.Map // schema URI → *ontology

type ontology struct {
	parents map[string][]string // class → its superclasses and equivalents
}

// formatMatches reports whether format got satisfies one of want.
func formatMatches(got string, want []string, schemas []string) bool {
	for _, w := range want {
		if w == got {
			return true
		}
	}
	for _, s := range schemas {
		o := loadOntology(s)
		if o == nil {
			continue
		}
		for _, w := range want {
			if o.isA(got, w) {
				return true
			}
		}
	}
	return false
}

func (o *ontology) isA(class, ancestor string) bool {
	seen := map[string]bool{}
	stack := []string{class}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c == ancestor {
			return true
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		stack = append(stack, o.parents[c]...)
	}
	return false
}

func loadOntology(uri string) *ontology {
	if o, ok := ontologies.Load(uri); ok {
		return o.(*ontology)
	}
	f, err := os.Open(schema.URIPath(uri))
	if err != nil {
		ontologies.Store(uri, (*ontology)(nil))
		return nil
	}
	defer f.Close()
	o, err := parseRDFXML(f)
	if err != nil {
		o = nil
	}
	ontologies.Store(uri, o)
	return o
}

var entityDecl = regexp.MustCompile(`<!ENTITY\s+(\w+)\s+"([^"]*)"\s*>`)

const (
	rdfNS  = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	rdfsNS = "http://www.w3.org/2000/01/rdf-schema#"
	owlNS  = "http://www.w3.org/2002/07/owl#"
)

// parseRDFXML reads the class hierarchy (rdfs:subClassOf and
// owl:equivalentClass between named classes) of an RDF/XML document.
func parseRDFXML(r io.Reader) (*ontology, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytesReader(data))
	d.Strict = false
	d.Entity = map[string]string{}
	for _, m := range entityDecl.FindAllStringSubmatch(string(data), -1) {
		d.Entity[m[1]] = m[2]
	}
	o := &ontology{parents: map[string][]string{}}
	var base string
	var subject []string // rdf:about of enclosing elements
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return o, nil
		}
		if err != nil {
			return o, nil // keep what was read; a partial hierarchy is still useful
		}
		switch t := tok.(type) {
		case xml.StartElement:
			about := ""
			for _, a := range t.Attr {
				switch {
				case a.Name.Local == "base" && base == "":
					base = a.Value
				case a.Name.Space == rdfNS && a.Name.Local == "about":
					about = resolveIRI(base, a.Value)
				case a.Name.Space == rdfNS && a.Name.Local == "resource" && len(subject) > 0 && subject[len(subject)-1] != "":
					if t.Name.Space == rdfsNS && t.Name.Local == "subClassOf" || t.Name.Space == owlNS && t.Name.Local == "equivalentClass" {
						s := subject[len(subject)-1]
						o.parents[s] = append(o.parents[s], resolveIRI(base, a.Value))
					}
				}
			}
			subject = append(subject, about)
		case xml.EndElement:
			if len(subject) > 0 {
				subject = subject[:len(subject)-1]
			}
		}
	}
}

func resolveIRI(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil || base == "" {
		return ref
	}
	r, err := b.Parse(ref)
	if err != nil {
		return ref
	}
	return r.String()
}
