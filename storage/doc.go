// Package storage is how flow reaches data that is not a local path: a
// File or Directory input whose location is an s3:// or http(s):// URL,
// and an --outdir that is an s3:// prefix.
//
// Every place data can live is a Backend, chosen by the URL's scheme
// (local files, HTTP(S), S3), with one small interface: Stat, Open a byte
// range, List a prefix, Put a file. One conformance suite (TestBackends)
// holds the backends that store objects (local, S3) to the same
// behaviour; HTTP(S), which can only be read, is held to the reading half
// by the download cache's tests. Every backend reports failures as the
// same errors a user sees: not found, forbidden, unreachable.
//
// Remote inputs are not read by the engine directly. Before a run starts,
// Resolve fetches each one into the download Cache and rewrites its
// location to the cached local file, so everything after it (hashing,
// the step cache, containers, staging to a cluster over SFTP) sees an
// ordinary file. The cache is content-addressed: objects are stored once
// under their SHA-1 (the digest the step cache and the cluster's input
// store use), and an index maps a URL with its version (ETag or
// Last-Modified, and size) to that digest, so that running again
// downloads nothing while an object that changed is fetched anew. A
// download is split into ranges fetched in parallel and written straight
// to disk; a range cut short by the server is resumed from where it
// stopped.
//
// Where credentials come from (storage.yaml, the standard AWS chain) is
// Config's business; they are handed to the SDK and never appear in an
// error, a log line or a URL that flow records.
package storage
