// Package local is the executor that runs tasks as child processes of flow
// on this machine.
//
// # Lifecycle
//
// Start first waits (as long as its ctx allows) until the machine has room
// for the task: see Admission below. It then opens the task's stdin, stdout
// and stderr, and starts argv in the task's directory with exactly the
// task's environment, in a process group of its own, inside the executor's
// PID namespace (see below). The Handle it returns
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
// # PID namespace
//
// A process group is not enough to end a task: a process that calls
// setsid leaves it, and the kernel's parent-death signal reaches the
// task's first process only. So tasks run in a PID namespace that ends
// with flow: when its first process (its init) dies, the kernel kills
// every process in it. The init has the parent-death signal SIGKILL, is
// started from a thread that lives as long as it does (the signal follows
// the thread that started a process, not the whole of flow), and also
// ends when flow's end of its socket closes, which Close does at the end
// of a run.
//
// There is one namespace per executor, that is per run, not one per task:
// a task's init must be a program, and the only one flow can count on is
// its own executable, which takes milliseconds to start (the namespace's
// two processes take 10 to 160 ms on a busy 2-core machine), many times
// the cost of a one-line task (under 1 ms). Once per run that is nothing;
// per task it would multiply the time of a scatter of short jobs. A
// namespace per run meets the need, since every task and all its
// descendants are in it and die with flow; what it does not do is end a
// task's setsid leftovers when the task ends rather than when the run
// does (a group kill still ends the rest).
//
// The namespace holds two processes of flow's executable, run again under
// a name this package's init function recognises, so any binary that
// links the executor (flow, flowd's runs, the tests) serves without doing
// anything: the init (PID 1) mounts the namespace's own /proc, so that a
// task's pid and /proc agree, and reaps the orphans the kernel hands it;
// the spawner, its child, starts, signals and reaps tasks for flow over a
// Unix socket, receiving each task's stdin, stdout and stderr with it
// (SCM_RIGHTS), and reports each task's pid as flow sees it, its wait
// status and resource usage. Tasks are not flow's children: flow cannot
// enter the namespace to start them itself (setns to a PID namespace
// needs CAP_SYS_ADMIN, and a multithreaded Go process cannot join a user
// namespace). The spawner, which reaps them, is the one that signals
// them, so a pid it signals is never a reused one.
//
// As root the namespace is CLONE_NEWPID with a mount namespace for its
// /proc. As another user it also needs a user namespace (unprivileged
// ones are allowed on Debian and most distributions): the init is root in
// one (mapped to the user), which mounting /proc needs, and the spawner
// runs in a nested one where the user is themself again, so tasks keep
// the user's uid and gid and have no capabilities. Where no namespace can
// be made, tasks run as flow's direct children, as with
// Options.SharedPIDNamespace, and the executor warns once.
//
// The sandbox (executors/sandbox) and container runtimes make PID
// namespaces of their own inside this one; that costs nothing more per
// task, since this one is made once.
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
