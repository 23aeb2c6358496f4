package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The flow binary reads a Turtle ontology (in a child process of its own)
// and matches formats through it; a malformed one is named in the error.
func TestFormatCheckReadsTurtleOntology(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "tool.cwl"), `cwlVersion: v1.2
class: CommandLineTool
$namespaces: {ex: "http://example.org/formats#"}
$schemas: [formats.ttl]
baseCommand: cat
inputs:
  table: {type: File, format: ex:table, inputBinding: {}}
stdout: out.txt
outputs: {out: stdout}
`)
	writeTestFile(t, filepath.Join(dir, "t.csv"), "a,b\n")
	ttl := `@prefix ex: <http://example.org/formats#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:csv rdfs:subClassOf ex:table .
`
	writeTestFile(t, filepath.Join(dir, "formats.ttl"), ttl)
	job := func(format string) string {
		p := filepath.Join(dir, strings.TrimPrefix(format, "ex:")+".json")
		writeTestFile(t, p, `{"table": {"class": "File", "location": "t.csv", "format": "`+format+`"}}`)
		return p
	}
	args := func(j string) []string {
		return []string{"run", "--no-provenance", "--quiet", "--outdir", filepath.Join(dir, "out"), filepath.Join(dir, "tool.cwl"), j}
	}
	if r := flow(t, args(job("ex:csv"))...); r.code != 0 {
		t.Fatalf("a CSV file, CSV a subclass of table: exit %d\n%s", r.code, r.stderr)
	}
	r := flow(t, args(job("ex:json"))...)
	if lines := stderrLines(r.stderr); r.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "has format http://example.org/formats#json") {
		t.Errorf("a JSON file: exit %d, want 1 and one line naming the format:\n%s", r.code, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "formats.ttl"), []byte(".5e3f\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = flow(t, args(job("ex:csv"))...)
	if lines := stderrLines(r.stderr); r.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "formats.ttl: not readable as Turtle") {
		t.Errorf("a malformed ontology: exit %d, want 1 and one line naming it:\n%s", r.code, r.stderr)
	}
}
