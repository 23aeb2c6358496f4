// Package dag turns a workflow's steps and the sources they read into a
// graph the engine can walk.
//
// The engine hands Build a Spec: the workflow's input ids, its steps (each
// with the outputs it makes and every source it reads) and its outputs.
// Build resolves each source to the thing that produces it. A source that
// names a workflow input exactly is that input; any other source is split
// at its last "/" into a step id and an output id ("align/bam"). Step ids
// never contain "/", but input ids may, which is why inputs are tried first
// and the split happens at the last slash.
//
// Everything that makes a workflow impossible to run is found here, at load
// time, and reported as sentences a user can act on: sources that point at
// nothing (all of them, not only the first; see SourceError), a cycle among
// steps (one cycle, spelled out in order; see CycleError), and duplicate or
// malformed step ids. Callers branch on the sentinels ErrDanglingSource,
// ErrCycle, ErrDuplicateStep and ErrInvalidStepID with errors.Is.
//
// A built Graph is immutable and safe for concurrent use. It answers the
// questions a scheduler asks: a deterministic topological Order, the
// Dependencies a step waits for and the Dependents it unblocks. DOT and
// Mermaid draw the whole workflow (inputs, steps, outputs) for `flow graph`.
//
// The step-to-step edges live in a github.com/dominikbraun/graph graph. Its
// own topological sorts rescan every vertex for each vertex they emit, which
// is quadratic, so Build sorts with Kahn's algorithm over the adjacency maps
// instead: linear in steps plus edges, which keeps a 10,000-step scatter
// expansion or chain well under a second.
//
// The package does no I/O besides writing drawings to the io.Writer it is
// given.
package dag
