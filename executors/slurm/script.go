package slurm

import (
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flow-cwl/flow/executors"
)

// jobHeader is the part of every job script that holds no values: the
// functions that run one task. Values reach them only as single-quoted
// words on a flow_task line (see taskCall), never inside this text.
//
// flow_task DIR EXITFILE LIMIT_US STDIN STDOUT STDERR N ENV... ARGV...
// enters DIR, checks that ARGV[0] exists in the task's own PATH, runs
// ARGV under `env -i` with exactly the N NAME=VALUE words (and under
// `timeout` when LIMIT_US > 0), and then writes one line to EXITFILE
// (through a temporary file and mv, so a reader never sees half of it):
//
//	KIND STATUS START_US END_US
//
// KIND is exit, signal (STATUS is the signal number), timeout, notfound
// or nodir. Bash reports a child killed by signal N as status 128+N, the
// same as a child that exits with 128+N; the difference is that bash
// prints a message ("Killed") for the first only, so the message, caught
// on the stderr of a group around the command, tells them apart. (SIGINT and SIGPIPE get no
// message and read as exits 130 and 141.)
const jobHeader = `export LC_ALL=C

flow_now() {
	if [[ -n ${EPOCHREALTIME-} ]]; then REPLY=${EPOCHREALTIME/[.,]/}; else REPLY=$(date +%s%6N); fi
}

flow_done() { # EXITFILE KIND STATUS START_US
	flow_now
	printf '%s %s %s %s\n' "$2" "$3" "$4" "$REPLY" >"$1.tmp" && mv -f -- "$1.tmp" "$1"
}

flow_found() { # NAME HAS_PATH PATH: is NAME an executable file, as execvp would find it?
	local name=$1 d
	if [[ $name == */* ]]; then
		[[ -f $name && -x $name ]]
		return
	fi
	[[ $2 == 1 ]] || return 1
	local -a dirs
	IFS=: read -r -a dirs <<<"$3:"
	for d in "${dirs[@]}"; do
		[[ -f ${d:-.}/$name && -x ${d:-.}/$name ]] && return 0
	done
	return 1
}

flow_task() {
	local dir=$1 exitf=$2 limit=$3 in=$4 out=$5 err=$6 n=$7
	shift 7
	local -a env=("${@:1:n}")
	shift "$n"
	local start end msg status kind=exit kv path= has_path=0
	flow_now
	start=$REPLY
	if ! cd -- "$dir"; then
		flow_done "$exitf" nodir 1 "$start"
		return
	fi
	for kv in "${env[@]}"; do
		if [[ $kv == PATH=* ]]; then path=${kv#PATH=} has_path=1; fi
	done
	if ! flow_found "$1" "$has_path" "$path"; then
		flow_done "$exitf" notfound 127 "$start"
		return
	fi
	local -a cmd=(env -i -- "${env[@]}" "$@")
	if ((limit > 0)); then
		local secs
		printf -v secs '%d.%06d' $((limit / 1000000)) $((limit % 1000000))
		cmd=(timeout -k 5 "$secs" "${cmd[@]}")
	fi
	# The group's stderr catches only bash's own messages. It must be a file:
	# bash prints no job messages inside a command substitution. It is
	# private, as the message repeats the command line, environment included.
	(umask 077 && : >"$exitf.msg")
	{ "${cmd[@]}" <"$in" >"$out" 2>"$err"; } 2>>"$exitf.msg"
	status=$?
	msg=$(<"$exitf.msg")
	rm -f -- "$exitf.msg"
	flow_now
	end=$REPLY
	if ((status > 128 && status <= 192)) && [[ -n $msg ]]; then
		kind=signal status=$((status - 128))
	elif [[ -n $msg ]]; then
		printf 'flow: %s\n' "$msg" >&2 # a redirection failed; say so in the job's log
	fi
	if ((limit > 0 && status != 0 && end - start >= limit)); then
		kind=timeout
	fi
	flow_done "$exitf" "$kind" "$status" "$start"
}
`

// directives are the #SBATCH lines that depend on a task's resources and
// the executor's configuration: tasks with equal directives can share one
// job array. Job names and paths are set per submission.
func (e *Executor) directives(t *executors.Task) []string {
	cores := max(1, int(math.Ceil(t.Resources.Cores)))
	d := []string{fmt.Sprintf("--cpus-per-task=%d", cores)}
	if t.Resources.RAMMiB > 0 {
		d = append(d, fmt.Sprintf("--mem=%dM", t.Resources.RAMMiB))
	}
	if t.Resources.TmpdirMiB > 0 {
		d = append(d, fmt.Sprintf("--tmp=%dM", t.Resources.TmpdirMiB))
	}
	if t.TimeLimit > 0 {
		d = append(d, fmt.Sprintf("--time=%d", minutes(t.TimeLimit)))
	}
	for _, o := range []struct{ flag, v string }{
		{"--partition", e.opts.Partition}, {"--account", e.opts.Account}, {"--qos", e.opts.QOS},
	} {
		if o.v != "" {
			d = append(d, o.flag+"="+o.v)
		}
	}
	return d
}

// minutes is a time limit for --time: whole minutes, rounded up, at least
// one. The job script enforces the exact limit itself; Slurm's is the
// backstop.
func minutes(d time.Duration) int64 {
	return max(1, int64(math.Ceil(d.Minutes())))
}

// taskCall is the flow_task line that runs t, every value quoted. Paths
// for stdin/stdout/stderr stay relative to t.Dir, where flow_task runs.
func taskCall(t *executors.Task, f taskFiles) string {
	in, out := t.Stdin, t.Stdout
	if in == "" {
		in = "/dev/null"
	}
	if out == "" {
		out = "/dev/null"
	}
	names := make([]string, 0, len(t.Env))
	for k := range t.Env {
		names = append(names, k)
	}
	slices.Sort(names)
	words := []string{t.Dir, f.Exit, strconv.FormatInt(t.TimeLimit.Microseconds(), 10), in, out, f.Stderr, strconv.Itoa(len(names))}
	for _, k := range names {
		words = append(words, k+"="+t.Env[k])
	}
	words = append(words, t.Argv...)
	return "flow_task " + shell.Join(words)
}

// jobScript renders the batch script of one submission: a plain job for
// one task, or an array whose index picks the task.
func (e *Executor) jobScript(s *submission) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", s.name)
	for _, d := range s.directives {
		fmt.Fprintf(&b, "#SBATCH %s\n", d)
	}
	if len(s.tasks) > 1 {
		fmt.Fprintf(&b, "#SBATCH --array=0-%d%s\n", len(s.tasks)-1, e.arrayLimit())
	}
	b.WriteString("# Written by flow (executor slurm): runs ")
	if len(s.tasks) == 1 {
		fmt.Fprintf(&b, "one task.\n")
	} else {
		fmt.Fprintf(&b, "%d tasks, one per array index.\n", len(s.tasks))
	}
	b.WriteString(jobHeader)
	if len(e.opts.Prologue) > 0 {
		b.WriteString("\n# Prologue from flow's cluster configuration.\n")
		for _, l := range e.opts.Prologue {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("\n")
	if len(s.tasks) == 1 {
		b.WriteString(taskCall(s.tasks[0], s.files[0]) + "\n")
		return b.String()
	}
	b.WriteString("case ${SLURM_ARRAY_TASK_ID-} in\n")
	for i, t := range s.tasks {
		fmt.Fprintf(&b, "%d) %s ;;\n", i, taskCall(t, s.files[i]))
	}
	b.WriteString("*) echo \"flow: no task for array index ${SLURM_ARRAY_TASK_ID-}\" >&2; exit 1 ;;\nesac\n")
	return b.String()
}

func (e *Executor) arrayLimit() string {
	if e.opts.ArrayLimit > 0 {
		return "%" + strconv.Itoa(e.opts.ArrayLimit)
	}
	return ""
}

// taskFiles are where one task's bookkeeping lives on the cluster.
type taskFiles struct {
	Exit   string // the exit-code file flow_task writes last
	Stderr string // the task's stderr: its own file, or one of ours
}

// filesFor names the files of task i of a submission whose files start
// with prefix (a path without extension).
func filesFor(t *executors.Task, prefix string, i int) taskFiles {
	f := taskFiles{Exit: fmt.Sprintf("%s.%d.exit", prefix, i)}
	switch {
	case t.Stderr == "":
		f.Stderr = fmt.Sprintf("%s.%d.stderr", prefix, i)
	case path.IsAbs(t.Stderr):
		f.Stderr = t.Stderr
	default:
		f.Stderr = path.Join(t.Dir, t.Stderr)
	}
	return f
}
