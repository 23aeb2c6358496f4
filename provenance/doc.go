// Package provenance remembers what flow did, so that a result can be
// explained long after the run that made it.
//
// Every run is a Run record; every try at every job of a step (one
// element of a scatter, a retry after a failure, a job whose outputs came
// from the cache) is an Attempt holding the command line, environment,
// container image, exit code, times, peak memory, and the files it used
// and generated, each named by its SHA-1 as CWL checksums are. Two indexes
// turn these records into lineage: which attempts generated a given
// content (GeneratedBy), and what content was last seen at a given path
// and which run put it there (FileByPath, WrittenBy; a run's final outputs
// are recorded as delivered by it). From a path, Lineage walks back: the
// run that wrote the file there, its attempt that made that content, the
// files that attempt used, the attempts that made those, down to the
// workflow inputs that no step made (or, asked by content, the newest
// attempt anywhere that made the same bytes), and
// WriteLineageText prints that tree for `flow lineage FILE`. The same
// records export as a Workflow Run RO-Crate (WriteROCrate) and as W3C
// PROV-JSON (WritePROVJSON) for tools outside flow. The store also keeps
// the index of the step cache (CacheEntry), since cache keys and lineage
// rest on the same content digests.
//
// Store is the interface the engine writes through and the CLI reads
// through; DB implements it on one bbolt file (Open, DefaultPath). The
// engine records attempts from every running job at once, so PutAttempt
// gathers concurrent writes into shared transactions, and commits are not
// fsynced one by one: a crash of flow, even kill -9, loses nothing that
// was committed (Open explains why), and Close or Sync make a run durable
// against power loss.
//
// bbolt lets one process write a file, or several read it, at a time:
// a `flow runs` started while a `flow run` holds the database waits for
// the lock and gives up after Options.Timeout with ErrLocked.
package provenance
