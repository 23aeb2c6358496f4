// Package schema reads CWL documents and input objects into a typed model.
//
// Loading happens in three layers. First, files are parsed (YAML or JSON,
// with yaml.v3) into Nodes that remember their file, line and column, and
// $import and $include are resolved on the way, so a node taken from an
// imported file still points into that file. Second, identifiers are
// resolved the way CWL's schema language does it: ids and references are
// URIs relative to the document, $namespaces expand prefixes, $graph
// documents are indexed by id, and `run:` references load other files
// (each file once per Loader). Third, the nodes are decoded into Process,
// Parameter, Type, Step and friends, with every shorthand normalised:
// map forms of inputs, outputs, requirements and steps; "File[]" and
// "string?"; `type: stdout`; secondaryFiles patterns; SchemaDefRequirement
// types shared by pointer so they may refer to each other. Documents of
// CWL v1.0 and v1.1 are read too; features they lack are rejected with the
// version that introduced them.
//
// YAML is read with yaml.v3 the way CWL runners read it, as YAML 1.2: a
// plain scalar with '?' in a flow collection ({type: File?}) is text, and
// a syntax error is placed at the offending token (see yaml.go). An
// optional field given as null is absent.
//
// Check, run on a loaded process before anything runs, finds what only
// fails at run time: steps that leave required inputs unset or name
// outputs their process lacks, and sources whose type cannot flow into
// their sink under CWL's rules (scatter, linkMerge, pickValue, when,
// valueFrom); links that may fail only sometimes are warnings.
//
// Ids in the model are short and relative to the process they belong to
// ("reads", "align/bam"), which is what the engine works with.
//
// Every problem is an *Error with the position and the dotted field path,
// written as a sentence; requirements flow cannot honour wrap
// ErrUnsupported, which the command line turns into exit code 33.
package schema
