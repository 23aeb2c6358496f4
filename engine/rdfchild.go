package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/knakk/rdf"
)

// Turtle and N-Triples are read with github.com/knakk/rdf. Its lexer runs
// on a goroutine of its own that panics on some malformed documents (and
// can spin on others), where no recover reaches: in flow's process that
// would end the whole run. So a document is read in a child process of
// flow's own binary, started with rdfChildEnv set; the child writes the
// statements that matter as JSON lines, and a crash, a hang or a bad
// document costs only the child.

const (
	rdfChildEnv     = "FLOW_INTERNAL_READ_RDF" // the syntax the child reads from stdin
	rdfChildBaseEnv = "FLOW_INTERNAL_RDF_BASE" // the document's IRI, for relative IRIs
	rdfChildTimeout = time.Minute
)

// rdfStatement is one line of the child's output: a statement, or the
// last line, which says how reading ended.
type rdfStatement struct {
	S, P, O string `json:",omitempty"`
	Done    bool   `json:",omitempty"`
	Err     string `json:",omitempty"`
}

func init() {
	if syntax := os.Getenv(rdfChildEnv); syntax != "" {
		os.Exit(rdfChild(syntax, os.Getenv(rdfChildBaseEnv), os.Stdin, os.Stdout))
	}
}

var rdfSyntaxNames = map[rdf.Format]string{rdf.Turtle: "turtle", rdf.NTriples: "ntriples"}

// rdfChild is the child's side: it decodes the document on r and writes
// the subclass and equivalence statements between named classes to w.
func rdfChild(syntax, base string, r io.Reader, w io.Writer) int {
	var f rdf.Format
	switch syntax {
	case "turtle":
		f = rdf.Turtle
	case "ntriples":
		f = rdf.NTriples
	default:
		fmt.Fprintf(os.Stderr, "flow: unknown RDF syntax %q\n", syntax)
		return 2
	}
	out := bufio.NewWriter(w)
	defer out.Flush()
	enc := json.NewEncoder(out)
	dec := rdf.NewTripleDecoder(r, f)
	if f == rdf.Turtle {
		if iri, err := rdf.NewIRI(base); err == nil {
			_ = dec.SetOption(rdf.Base, iri)
		}
	}
	for {
		t, err := dec.Decode()
		if err == io.EOF {
			_ = enc.Encode(rdfStatement{Done: true})
			return 0
		}
		if err != nil {
			_ = enc.Encode(rdfStatement{Err: err.Error()})
			return 0
		}
		// Blank nodes are class expressions (restrictions, unions):
		// they name no format.
		if t.Subj.Type() != rdf.TermIRI || t.Obj.Type() != rdf.TermIRI {
			continue
		}
		if p := t.Pred.String(); p == rdfsSubClassOf || p == owlEquivalentClass {
			_ = enc.Encode(rdfStatement{S: t.Subj.String(), P: p, O: t.Obj.String()})
		}
	}
}

// decodeRDFInChild reads a Turtle or N-Triples document in a child
// process. It returns what was read even with an error.
func decodeRDFInChild(data []byte, f rdf.Format, base string) (*ontology, error) {
	o := newOntology()
	self, err := os.Executable()
	if err != nil {
		return o, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), rdfChildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), rdfChildEnv+"="+rdfSyntaxNames[f], rdfChildBaseEnv+"="+base)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return o, err
	}
	if err := cmd.Start(); err != nil {
		return o, err
	}
	var end *rdfStatement
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var st rdfStatement
		if json.Unmarshal(sc.Bytes(), &st) != nil {
			continue
		}
		if st.Done || st.Err != "" {
			end = &st
			continue
		}
		o.add(st.S, st.P, st.O)
		o.statements++
	}
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	switch {
	case end != nil && end.Err != "":
		return o, errors.New(end.Err)
	case end != nil:
		return o, nil
	case ctx.Err() != nil:
		return o, fmt.Errorf("reading the document took longer than %s", rdfChildTimeout)
	default:
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i] // a panic's first line says what went wrong
		}
		if msg = strings.TrimPrefix(msg, "panic: "); msg == "" {
			msg = waitErr.Error()
		}
		return o, fmt.Errorf("the RDF reader crashed: %s", msg)
	}
}
