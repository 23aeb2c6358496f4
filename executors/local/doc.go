// Package local is the executor that runs tasks as child processes of flow
// on this machine.
//
// # Lifecycle
//
// Start first waits (as long as its ctx allows) until the machine has room
// for the task: see Admission below. It then opens the task's stdin, stdout
// and stderr, and starts argv in the task's directory with exactly the
// task's environment, in a process group of its own. The Handle it returns
// carries the pid plus the process's kernel start time and the machine's
// boot id, so that a later Recover can tell "still the same process" from
// "a new process that happens to have the same pid".
//
// The task is its process group. Cancel, the end of Wait's ctx, and the
// task's time limit all send SIGTERM to the whole group and, if anything is
// still there after the grace period (Options.KillGrace), SIGKILL. When the
// group leader exits on its own, whatever it left running in the group is
// killed too, so a finished task holds no CPU, memory or open files.
//
// Wait is where the caller's goroutine blocks: it waits for the leader with
// waitid(WNOWAIT), so the pid cannot be reused while the group is being
// cleaned up, then reaps it with wait4 for its status and rusage. There is
// no reaper goroutine, no polling and no per-task timer unless the task has
// a time limit; the only helper goroutine is the one that keeps the tail of
// stderr when the task's stderr is not going to a file.
//
// # Admission
//
// A task counts against three budgets: cores (runtime.NumCPU unless
// Options.Cores says otherwise; a task that states none counts as one),
// memory (MemTotal from /proc/meminfo unless Options.RAMMiB says
// otherwise), and an optional cap on concurrent tasks (Options.MaxParallel,
// the CLI's --parallel). Tasks are admitted first come, first served: a
// task that does not fit waits, and so do the tasks that arrived after it,
// which means a large task is never starved by a stream of small ones, at
// the cost of some idle cores while it waits. A task that asks for more
// than the whole machine is logged with a warning and runs alone rather
// than never. Resources are returned when Wait returns.
//
// # Recover
//
// After flow restarts, Recover checks that the handle's process still runs
// (same boot, same pid, same start time) and adopts it. It is no longer
// flow's child, so Wait polls /proc every Options.PollInterval until it is
// gone, and then returns ErrLost: how a process that is not our child ended
// cannot be known.
//
// Recover and physical memory detection read /proc and so work on Linux
// only; elsewhere Recover returns ErrUnsupported and memory is unlimited
// unless Options.RAMMiB is set.
package local
