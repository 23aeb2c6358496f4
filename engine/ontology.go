package engine

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/knakk/rdf"

	"github.com/flow-cwl/flow/schema"
)

// Format checking: a file's format matches a parameter's format when they
// are equal or when the ontologies named in $schemas (EDAM, say) say the
// file's format is a subclass or an equivalent of it. The ontologies are
// RDF documents: RDF/XML, Turtle, N-Triples or JSON-LD.

var ontologies sync.Map // schema URI → loaded

// ontology is the class hierarchy of one $schemas document.
type ontology struct {
	// related maps a class to its superclasses (rdfs:subClassOf) and its
	// equivalents (owl:equivalentClass, stated either way round).
	related    map[string][]string
	statements int // how many were read, to choose between partial readings
}

const (
	rdfsSubClassOf     = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
	owlEquivalentClass = "http://www.w3.org/2002/07/owl#equivalentClass"
)

// formatMatches reports whether format got satisfies one of want. When
// it does not, problem says which ontologies could not be read ("" when
// all were), as that may be why.
func formatMatches(got string, want []string, schemas []string) (ok bool, problem string) {
	if slices.Contains(want, got) {
		return true, ""
	}
	var onts []*ontology
	var problems []string
	for i, s := range schemas {
		if slices.Contains(schemas[:i], s) {
			continue
		}
		o, err := loadOntology(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", path.Base(schema.URIPath(s)), err))
		}
		if o != nil {
			onts = append(onts, o)
		}
	}
	for _, w := range want {
		if isA(got, w, onts) {
			return true, ""
		}
	}
	return false, strings.Join(problems, "; ")
}

// isA walks from class through subclass and equivalence edges of all the
// ontologies at once: the $schemas documents describe one graph, so an
// equivalence stated in one and a subclass stated in another combine.
func isA(class, ancestor string, onts []*ontology) bool {
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
		for _, o := range onts {
			stack = append(stack, o.related[c]...)
		}
	}
	return false
}

// loaded is what reading one $schemas document gave.
type loaded struct {
	o   *ontology // nil when nothing could be read
	err error     // why it was not read whole
}

// loadOntology reads an ontology once per run: every job that checks a
// format asks again.
func loadOntology(uri string) (*ontology, error) {
	if l, ok := ontologies.Load(uri); ok {
		return l.(loaded).o, l.(loaded).err
	}
	var l loaded
	data, err := os.ReadFile(schema.URIPath(uri))
	if err != nil {
		l.err = errors.Unwrap(err) // the path is said by the caller
		if l.err == nil {
			l.err = err
		}
	} else {
		l.o, l.err = parseOntology(data, uri)
	}
	ontologies.Store(uri, l)
	return l.o, l.err
}

// parseOntology reads an RDF document in the syntax its name suggests,
// falling back to the others (an .owl file may hold RDF/XML or Turtle).
// The first syntax that reads the whole document wins; when none does,
// the one that read the most is kept, since a partial hierarchy still
// matches more formats than none.
func parseOntology(data []byte, uri string) (*ontology, error) {
	var best *ontology
	var firstErr error
	for _, f := range rdfSyntaxes(uri) {
		var o *ontology
		var err error
		switch f {
		case rdf.RDFXML:
			o, err = decodeRDFXML(data, uri)
		case jsonLD:
			o, err = decodeJSONLD(data, uri)
		default:
			o, err = decodeRDFInChild(data, f, uri)
		}
		if err == nil {
			return o, nil
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("not readable as %s: %w", syntaxName(f), err)
		}
		if best == nil || o.statements > best.statements {
			best = o
		}
	}
	return best, firstErr
}

// jsonLD stands for JSON-LD among the RDF library's syntaxes, which lack
// it: json-gold reads it.
const jsonLD rdf.Format = -1

func syntaxName(f rdf.Format) string {
	switch f {
	case jsonLD:
		return "JSON-LD"
	case rdf.Turtle:
		return "Turtle"
	case rdf.NTriples:
		return "N-Triples"
	}
	return "RDF/XML"
}

// rdfSyntaxes lists the syntaxes to try for the document at uri, the one
// its extension names first.
func rdfSyntaxes(uri string) []rdf.Format {
	p := uri
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".ttl", ".turtle", ".n3":
		return []rdf.Format{rdf.Turtle, rdf.RDFXML}
	case ".nt":
		return []rdf.Format{rdf.NTriples, rdf.Turtle, rdf.RDFXML}
	case ".jsonld", ".json-ld", ".json":
		return []rdf.Format{jsonLD, rdf.RDFXML, rdf.Turtle}
	default:
		return []rdf.Format{rdf.RDFXML, rdf.Turtle}
	}
}

func newOntology() *ontology { return &ontology{related: map[string][]string{}} }

// add records one statement between named classes; other predicates are
// ignored.
func (o *ontology) add(subject, predicate, object string) {
	switch predicate {
	case rdfsSubClassOf:
		o.related[subject] = append(o.related[subject], object)
	case owlEquivalentClass:
		o.related[subject] = append(o.related[subject], object)
		o.related[object] = append(o.related[object], subject)
	}
}

const (
	rdfNS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	xmlNS = "http://www.w3.org/XML/1998/namespace"
)

var entityDecl = regexp.MustCompile(`<!ENTITY\s+([\w.-]+)\s+"([^"]*)"\s*>`)

// decodeRDFXML reads the subclass and equivalence statements between
// named classes of an RDF/XML document: a node element named by
// rdf:about or rdf:ID, whose property element names the other class with
// rdf:resource or with a nested node element. The RDF library's RDF/XML
// decoder stops at constructs EDAM uses (a typed node element such as
// owl:Restriction inside rdfs:subClassOf), so RDF/XML is read here; the
// entities a DOCTYPE declares (EDAM's &oboOther;) are expanded.
func decodeRDFXML(data []byte, base string) (*ontology, error) {
	o := newOntology()
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.Entity = map[string]string{}
	for _, m := range entityDecl.FindAllSubmatch(data, -1) {
		d.Entity[string(m[1])] = string(m[2])
	}
	// Elements alternate: node elements hold property elements, which
	// hold node elements (or a literal, or nothing).
	const (
		root = iota
		node
		property
		ignored
	)
	type frame struct {
		kind      int
		base      string
		subject   string // a node's IRI; a property's subject ("" for a blank node)
		predicate string // a property's IRI
	}
	stack := []frame{{kind: root, base: base}}
	isRDF := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if !isRDF {
				return o, errors.New("not an RDF/XML document")
			}
			return o, nil
		}
		if err != nil {
			return o, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		t, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		parent := stack[len(stack)-1]
		f := frame{kind: ignored, base: parent.base}
		attr := map[string]string{}
		for _, a := range t.Attr {
			switch {
			case a.Name.Local == "base" && (a.Name.Space == xmlNS || a.Name.Space == "xml"):
				f.base = resolveIRI(parent.base, a.Value)
			case a.Name.Space == rdfNS:
				attr[a.Name.Local] = a.Value
			}
		}
		elem := t.Name.Space + t.Name.Local
		switch {
		case elem == rdfNS+"RDF":
			isRDF = true
			f.kind = root
		case parent.kind == root || parent.kind == property:
			f.kind = node
			if about, ok := attr["about"]; ok {
				f.subject = resolveIRI(f.base, about)
			} else if id, ok := attr["ID"]; ok {
				f.subject = resolveIRI(f.base, "#"+id)
			}
			if parent.kind == property && parent.subject != "" && f.subject != "" {
				o.add(parent.subject, parent.predicate, f.subject)
				o.statements++
			}
		case parent.kind == node:
			f.kind, f.subject, f.predicate = property, parent.subject, elem
			if res, ok := attr["resource"]; ok && f.subject != "" {
				o.add(f.subject, elem, resolveIRI(f.base, res))
				o.statements++
			}
			switch attr["parseType"] {
			case "Resource": // the property's children describe a blank node
				f.kind, f.subject = node, ""
			case "Literal":
				f.kind = ignored
			case "Collection":
				f.subject = "" // a list of nodes, not statements about each
			}
		}
		stack = append(stack, f)
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
