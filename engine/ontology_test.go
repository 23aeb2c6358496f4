package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/schema"
)

// formatTool accepts a table (ex:table) and reads its format hierarchy
// from two ontologies: one in RDF/XML, one in Turtle.
const formatTool = `cwlVersion: v1.2
class: CommandLineTool
$namespaces: {ex: "http://example.org/formats#"}
$schemas: [tables.rdf, names.ttl]
baseCommand: cat
inputs:
  table: {type: File, format: ex:table, inputBinding: {}}
stdout: out.txt
outputs: {out: stdout}
`

// tables.rdf says CSV is a table.
const tablesRDF = `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:Class rdf:about="http://example.org/formats#csv">
    <rdfs:subClassOf rdf:resource="http://example.org/formats#table"/>
  </owl:Class>
</rdf:RDF>
`

// names.ttl gives CSV two other names, stated each way round.
const namesTTL = `@prefix ex: <http://example.org/formats#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

ex:commaSeparated a owl:Class ;
    rdfs:label "comma-separated values" ;
    owl:equivalentClass ex:csv .
ex:csv owl:equivalentClass ex:commaDelimited , [ a owl:Restriction ] .
`

// runFormatTool runs formatTool on a file of the given format, with the
// Turtle ontology's text ttl.
func runFormatTool(t *testing.T, ttl, format string) error {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"tool.cwl": formatTool, "tables.rdf": tablesRDF, "names.ttl": ttl, "t.csv": "a,b\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := schema.Load(filepath.Join(dir, "tool.cwl"))
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"table": map[string]any{"class": "File", "location": "file://" + filepath.Join(dir, "t.csv"), "format": format}}
	_, err = newEngine(t).Run(context.Background(), p, in)
	return err
}

func TestTurtleOntologyMatchesFormats(t *testing.T) {
	// Each name reaches ex:table through both documents: an equivalence
	// in the Turtle one, then the subclass in the RDF/XML one.
	for _, format := range []string{"ex:table", "ex:csv", "ex:commaSeparated", "ex:commaDelimited"} {
		if err := runFormatTool(t, namesTTL, format); err != nil {
			t.Errorf("format %s: %v", format, err)
		}
	}
	err := runFormatTool(t, namesTTL, "ex:json")
	if err == nil || !strings.Contains(err.Error(), "has format http://example.org/formats#json") {
		t.Errorf("format ex:json: want a format error, got %v", err)
	}
}

func TestMalformedTurtleOntologyIsAnError(t *testing.T) {
	// ".5e3f" crashes the RDF library's lexer: the child reading it dies,
	// flow says why the format did not match.
	for _, ttl := range []string{".5e3f\n", "@prefix ex: <http://example.org/formats#> .\nex:a ex:b 12x .\n"} {
		err := runFormatTool(t, ttl, "ex:commaSeparated")
		if err == nil || !strings.Contains(err.Error(), "an ontology could not be read: names.ttl: not readable as Turtle") || strings.Contains(err.Error(), "\n") {
			t.Errorf("ontology %q: want one line naming the unreadable ontology, got %v", ttl, err)
		}
	}
}

func TestNTriplesOntology(t *testing.T) {
	o, err := parseOntology([]byte(`<http://e/a> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <http://e/b> .
<http://e/b> <http://www.w3.org/2000/01/rdf-schema#label> "b" .
`), "file:///x/formats.nt")
	if err != nil {
		t.Fatal(err)
	}
	if !isA("http://e/a", "http://e/b", []*ontology{o}) || isA("http://e/b", "http://e/a", []*ontology{o}) {
		t.Errorf("hierarchy = %v", o.related)
	}
}

func TestJSONLDOntology(t *testing.T) {
	o, err := parseOntology([]byte(`{
  "@context": {"ex": "http://example.org/formats#", "owl": "http://www.w3.org/2002/07/owl#",
               "rdfs": "http://www.w3.org/2000/01/rdf-schema#"},
  "@graph": [
    {"@id": "ex:csv", "rdfs:subClassOf": {"@id": "ex:table"}},
    {"@id": "ex:commaSeparated", "owl:equivalentClass": {"@id": "ex:csv"}}
  ]
}`), "file:///x/formats.jsonld")
	if err != nil {
		t.Fatal(err)
	}
	if !isA("http://example.org/formats#commaSeparated", "http://example.org/formats#table", []*ontology{o}) {
		t.Errorf("hierarchy = %v", o.related)
	}
	// A context elsewhere is not fetched: the ontology is unreadable.
	_, err = parseOntology([]byte(`{"@context": "http://example.org/context.jsonld", "@id": "ex:a"}`), "file:///x/remote.jsonld")
	if err == nil || !strings.Contains(err.Error(), "not readable as JSON-LD") || !strings.Contains(err.Error(), "flow loads no context from outside the document") {
		t.Errorf("a remote context: want an error saying it is not loaded, got %v", err)
	}
}

func TestRDFXMLOntology(t *testing.T) {
	// A superclass named by a nested node element, a class named by
	// rdf:ID against xml:base, an entity from the DOCTYPE, and a
	// restriction (a blank node) that names no format.
	o, err := parseOntology([]byte(`<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY ex "http://example.org/formats#" > ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="http://www.w3.org/2002/07/owl#"
         xml:base="http://example.org/formats">
  <owl:Class rdf:ID="csv">
    <rdfs:subClassOf><owl:Class rdf:about="&ex;table"/></rdfs:subClassOf>
    <rdfs:subClassOf><owl:Restriction><owl:onProperty rdf:resource="&ex;p"/></owl:Restriction></rdfs:subClassOf>
  </owl:Class>
  <rdf:Description rdf:about="&ex;tsv">
    <owl:equivalentClass rdf:resource="#tabSeparated"/>
  </rdf:Description>
</rdf:RDF>
`), "file:///x/formats.owl")
	if err != nil {
		t.Fatal(err)
	}
	onts := []*ontology{o}
	for _, c := range []struct {
		class, ancestor string
		want            bool
	}{
		{"http://example.org/formats#csv", "http://example.org/formats#table", true},
		{"http://example.org/formats#tabSeparated", "http://example.org/formats#tsv", true},
		{"http://example.org/formats#tsv", "http://example.org/formats#tabSeparated", true},
		{"http://example.org/formats#table", "http://example.org/formats#csv", false},
		{"http://example.org/formats#csv", "http://example.org/formats#p", false},
	} {
		if got := isA(c.class, c.ancestor, onts); got != c.want {
			t.Errorf("isA(%s, %s) = %v, want %v (hierarchy %v)", c.class, c.ancestor, got, c.want, o.related)
		}
	}
	// Turtle in a file named .owl is read all the same.
	o, err = parseOntology([]byte(namesTTL), "file:///x/names.owl")
	if err != nil || !isA("http://example.org/formats#commaSeparated", "http://example.org/formats#csv", []*ontology{o}) {
		t.Errorf("Turtle named .owl: %v, hierarchy %v", err, o)
	}
}
