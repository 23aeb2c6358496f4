// Package slurm runs flow's tasks as Slurm batch jobs: the same workflow
// that runs on a laptop runs on a cluster.
//
// Everything happens through a Runner, which runs a bash script on the
// cluster's login side: LocalRunner where that is this machine (a cluster
// with ssh: false), the SSH layer otherwise. The executor never touches
// the cluster's files directly, so it works the same over SSH.
//
// # Submitting
//
// Start writes a batch script and runs sbatch, in one Runner call. The
// script lives beside the task's directory, in .flow-slurm/ under the
// directory's parent, never inside it (the task's directory is the CWL
// output directory): KEY.sh, Slurm's own log KEY.log (KEY.N.log for array
// task N), and per task KEY.N.exit and, when the task's stderr goes
// nowhere else, KEY.N.stderr. Its #SBATCH lines carry the job name
// (flow-PREFIX-TASK, sanitised), the task's resources (--cpus-per-task,
// --mem, --tmp, --time rounded up to minutes) and the configured
// partition, account and QOS; paths (--chdir, --output, --error) go on
// sbatch's command line, quoted.
//
// The script runs the task with exactly Task.Env (env -i), under timeout(1)
// when it has a time limit (Slurm's --time only works in minutes and is
// the backstop), with stdin, stdout and stderr redirected, and finally
// writes how it ended to the exit file, atomically: "exit 3", "signal 9",
// "timeout", "notfound" (ARGV[0] is not in the task's PATH). The file, not
// accounting, is the source of truth, so results are known on clusters
// without slurmdbd. Every value from a workflow reaches the script as one
// single-quoted word (quote), so $(...), backticks, quotes and newlines
// arrive as text.
//
// StartBatch (executors.BatchStarter) turns a scatter into job arrays:
// tasks with equal #SBATCH lines share one array (--array=0-N%limit, at
// most MaxArraySize tasks each), and SLURM_ARRAY_TASK_ID picks the task in
// a case statement. Handles carry "JOBID_INDEX".
//
// # Following jobs
//
// One poller goroutine per executor, running while there are jobs to
// follow, asks squeue about all of them every PollInterval in a single
// call. Jobs that ended, or vanished from squeue, have their exit files
// and stderr tails read in one more call; those that vanished without an
// exit file are looked up with one sacct call (sacct -c, the job
// completion log, where there is no database). A job Slurm ended before
// the script could write its file (TIMEOUT, OUT_OF_MEMORY, CANCELLED,
// NODE_FAIL, PREEMPTED) gets ExitCode -1, Signal set to the state and
// Result.Reason saying why; TIMEOUT also sets TimedOut. Status shows the
// state and pending reason of a task while it waits.
//
// Cancel is one scancel; Wait whose ctx ends cancels the job and waits for
// it to go. Handles hold the job id and the files' paths (State, JSON), so
// after flow restarts Recover re-attaches to jobs still queued or running,
// or already finished with an exit file, instead of submitting them again.
//
// Limits: a task killed by SIGINT or SIGPIPE reads as exit 130 or 141
// (bash reports those without the message that tells signals from exits);
// a command whose name contains '=' cannot be run (env would take it for a
// variable); the prologue runs in the job script, whose environment the
// task does not inherit.
package slurm
