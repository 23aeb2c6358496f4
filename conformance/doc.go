// Package conformance measures a CWL runner against the official CWL
// conformance suite, the way the Python tool cwltest does, so that flow can
// track its own score without a Python toolchain.
//
// The story of one run has five chapters, one file each:
//
//   - load.go reads the index (conformance_tests.yaml), following
//     "- $import: other.yaml" entries, and turns every entry into a Test whose
//     tool and job are absolute paths (a tool's #fragment is kept).
//   - select.go narrows the list with the cwltest selectors: --tags,
//     --exclude-tags, -s/-S by id and -n/-N by 1-based number. Tests excluded
//     by tag stay in the plan, marked skipped, so they show in the report.
//   - run.go invokes the runner once per test, exactly as cwltest does:
//     RUNNER [args] --outdir=DIR --quiet TOOL [JOB], in a fresh working
//     directory, in its own process group so a timeout can kill everything it
//     started. It then judges the outcome: should_fail tests pass on any
//     non-zero exit, exit code 33 means "unsupported feature", and a zero exit
//     has its stdout parsed as JSON and compared with the expected output.
//   - compare.go is cwltest's comparison: "Any" wildcards, null-tolerant
//     objects, ordered lists, and File/Directory objects checked against the
//     disk (existence, location suffix, contents, sha1 checksum and size).
//     A mismatch names the JSON path of the first difference.
//   - report.go prints FAIL lines as tests finish, a per-tag table, and the
//     closing "N passed, N failed, N skipped" line, and writes optional JUnit
//     XML and JSON files.
//
// cli.go ties the chapters together and flags.go reads the command line of
// cmd/conformance, so tests can drive the whole program, exit status
// included, without building a binary.
package conformance
