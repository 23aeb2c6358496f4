// Package store is what flowd, the team daemon, remembers: who may talk to
// it, which keys it holds for the team's clusters, and every run it was
// asked to do. It holds no HTTP; the server above it decides who is asking
// and this package decides what they may see.
//
// Everything lives in two files in the daemon's data directory: the bbolt
// database flowd.db, and flowd.key, 32 random bytes made on first start
// that never enter the database (Open).
//
// Every record belongs to a team, and a team's records are keyed under its
// name, so one team cannot reach another's even by guessing an ID: its run
// is simply not found (ErrNotFound), which also does not tell the asker
// that it exists.
//
// Tokens. A member authenticates with a bearer token, "flowd_" and 43
// characters holding 256 random bits, shown once by CreateToken. The
// database keeps only its SHA-256: a copy of flowd.db, a backup or a
// leaked disk image, lets nobody in. A fast hash is enough here, unlike for
// passwords, because nobody can guess 256 random bits, however fast the
// hash. Verify finds the token by that hash and confirms it with a
// constant-time comparison. Each token carries a Role (viewer, operator,
// admin) and Can says what a role may do.
//
// SSH keys. GenerateSSHKey makes an ed25519 pair for a team. The public
// half is listed for pasting into authorized_keys on a cluster; the private
// half, as an OpenSSH PEM, is sealed with AES-256-GCM under a key derived
// from flowd.key, a fresh random nonce per record, and the team and key ID
// as additional data, so a sealed key copied under another team or ID does
// not open. Only PrivateKey, for the Slurm executor, ever opens it; with the
// wrong flowd.key it fails with ErrKeyMismatch instead of returning
// garbage. flowd.key must be readable by its owner alone, and Open refuses
// a looser one rather than keep secrets behind a world-readable key.
//
// Runs, events and workflows. A Run is the daemon's record of a submitted
// run, in WES states, read and changed by ID or listed newest first in
// pages whose tokens are signed with flowd.key, so a client cannot forge
// one to walk past the filter it was given. Unfinished lists the runs to
// take up again after a restart. Events are each run's append-only story
// (state changes, steps, log lines) with one increasing ID across the
// store, so a live follower (SSE) asks for what came after the last ID it
// saw, and Subscribe wakes it when there is more. Workflows are the
// team's registered workflow versions.
//
// Every commit is fsynced before the call returns: the daemon tells a
// member their run is accepted only when it is on disk, and a kill -9 or a
// power cut leaves every committed record whole. Events, which come in
// floods, share commits (see internal/boltgroup) so that they do not queue behind
// one fsync each.
package store
