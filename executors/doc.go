// Package executors defines how flow runs one command somewhere: the
// contract every executor (local processes, Slurm, ...) implements, and the
// plain data that crosses it.
//
// The engine turns each ready CommandLineTool job into a Task: a complete
// argv, the complete environment, a working directory, where stdin, stdout
// and stderr go, a time limit, the resources it asked for, and an optional
// container image. An Executor runs it in three calls:
//
//	h, err := ex.Start(ctx, task) // may wait for room; returns once the task runs
//	res, err := ex.Wait(ctx, h)   // blocks until it ends; exit code, timings, usage
//	ex.Cancel(ctx, h)             // from anywhere, to stop it early
//
// The Handle that Start returns is a plain struct that survives JSON, so the
// engine can store it and, after flow itself restarts, give it to Recover
// to re-attach to work that is still running rather than run it again.
//
// Errors the engine branches on are sentinels: ErrNotFound (the command does
// not exist: a permanent failure, not worth a retry), ErrLost (the executor
// cannot tell how a task ended), ErrUnknownTask and ErrUnsupported.
// Everything else is wrapped with %w and reads as a sentence.
//
// Optional abilities are separate interfaces found by type assertion:
// BatchStarter submits many tasks at once (Slurm job arrays).
//
// Executors are chosen by name through a Registry that cmd/ fills in
// explicitly; nothing registers itself from init. Every implementation runs
// the shared conformance suite in package executortest.
package executors
