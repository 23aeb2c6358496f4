// Package engine runs CWL processes: CommandLineTools, ExpressionTools and
// Workflows, loaded by package schema.
//
// A run starts with Engine.Run on a process and an input object. The
// engine binds the inputs (defaults, type checks, File and Directory
// objects completed, literals written to disk, secondaryFiles and
// contents loaded), then:
//
//   - a CommandLineTool becomes a job: a fresh directory holding its
//     output directory, tmpdir and staged inputs; InitialWorkDirRequirement
//     entries are linked or written into the output directory; the command
//     line is built from arguments and input bindings, sorted by position;
//     the job runs as an executors.Task on the configured executor; the
//     exit code is classified (successCodes, temporaryFailCodes); outputs
//     are collected by glob, loadContents, outputEval and secondaryFiles,
//     or read from cwl.output.json.
//   - an ExpressionTool evaluates its expression to the output object.
//   - a Workflow runs as a data flow over its step graph (package dag):
//     each step waits for the steps it reads from, gathers its inputs
//     (linkMerge, pickValue, defaults), scatters, applies valueFrom and
//     when, and runs its process, recursively. Independent steps and
//     scatter jobs run at the same time; the first failure cancels the
//     rest.
//
// Requirements and hints are inherited from enclosing workflows and steps;
// the most specific wins, requirements beat hints, and the input object's
// cwl:requirements beat the documents.
//
// Outputs live in job directories under the run's work directory until
// Relocate moves them into the user's output directory (copying anything
// that is not the run's own, so an input is never taken away) and fills
// checksums, sizes and listings. Close removes the work directory.
package engine
