package slurm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseSbatch reads the job id from `sbatch --parsable`: "123", or
// "123;cluster" on a federation.
func parseSbatch(out []byte) (string, error) {
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:] // sbatch may print warnings first
	}
	id, _, _ := strings.Cut(s, ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("sbatch printed %q where a job id was expected", strings.TrimSpace(string(out)))
	}
	return id, nil
}

// status is what Slurm says about one job or array task.
type status struct {
	State  string // PENDING, RUNNING, COMPLETED, ...
	Reason string // squeue's %r or sacct's Reason; "" for "None"
}

// parseSqueue reads `squeue -h -t all -r -o '%i|%T|%r'` into statuses by
// job id. Ids come as "123" (a plain job), "123_4" (an array task), or, for
// array tasks still pending together, "123_[0-5,7%2]", which is expanded
// to one entry per index.
func parseSqueue(out []byte) (map[string]status, error) {
	m := map[string]status{}
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "|", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("squeue printed the line %q, not JOBID|STATE|REASON", line)
		}
		st := status{State: f[1], Reason: cleanReason(f[2])}
		ids, err := expandJobID(f[0])
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			m[id] = st
		}
	}
	return m, nil
}

// expandJobID turns "123_[0-2,5%4]" into 123_0, 123_1, 123_2, 123_5; other
// ids are returned as they are.
func expandJobID(id string) ([]string, error) {
	base, rest, ok := strings.Cut(id, "_[")
	if !ok {
		return []string{id}, nil
	}
	spec, _, _ := strings.Cut(strings.TrimSuffix(rest, "]"), "%")
	var ids []string
	for part := range strings.SplitSeq(spec, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || b < a || b-a > 1_000_000 {
			return nil, fmt.Errorf("squeue printed the job id %q, whose array range is not understood", id)
		}
		for i := a; i <= b; i++ {
			ids = append(ids, base+"_"+strconv.Itoa(i))
		}
	}
	return ids, nil
}

// parseSacct reads `sacct -n -P -o JobID,State,ExitCode,Reason`. Lines for
// job steps ("123.batch", "123_4.extern") are skipped: the job's own line
// says how it ended. States like "CANCELLED by 0" keep their first word.
func parseSacct(out []byte) map[string]status {
	m := map[string]status{}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 2 || f[0] == "" || strings.Contains(f[0], ".") {
			continue
		}
		st := status{State: strings.Fields(f[1] + " ")[0]}
		if len(f) >= 4 {
			st.Reason = cleanReason(f[3])
		}
		m[f[0]] = st
	}
	return m
}

func cleanReason(r string) string {
	r = strings.TrimSpace(r)
	if r == "None" || r == "(null)" {
		return ""
	}
	return r
}

// Slurm job states flow distinguishes. squeue and sacct print these names.
const (
	statePending     = "PENDING"
	stateCompleting  = "COMPLETING"
	stateCompleted   = "COMPLETED"
	stateFailed      = "FAILED"
	stateTimeout     = "TIMEOUT"
	stateOutOfMemory = "OUT_OF_MEMORY"
	stateNodeFail    = "NODE_FAIL"
	stateCancelled   = "CANCELLED"
	statePreempted   = "PREEMPTED"
	stateBootFail    = "BOOT_FAIL"
	stateDeadline    = "DEADLINE"
	stateRevoked     = "REVOKED"
	stateSpecialExit = "SPECIAL_EXIT"
	stateRunning     = "RUNNING"
)

// terminal reports whether a job in this state has ended and its
// processes are gone. COMPLETING is not terminal: processes may still be
// exiting, and a task's files are not final until they have.
func terminal(state string) bool {
	switch state {
	case stateCompleted, stateFailed, stateTimeout, stateOutOfMemory, stateNodeFail,
		stateCancelled, statePreempted, stateBootFail, stateDeadline, stateRevoked, stateSpecialExit:
		return true
	}
	return false
}

// endedByScheduler reports whether the state means Slurm (not the task)
// ended the job: then the job script may not have written its exit file,
// and the state is the reason the user needs to see.
func endedByScheduler(state string) bool {
	return terminal(state) && state != stateCompleted && state != stateFailed
}

// exitRecord is the line the job script writes to the exit file.
type exitRecord struct {
	Kind     string // exit, signal, timeout, notfound, nodir
	Status   int
	Started  time.Time
	Finished time.Time
}

// parseExitLine reads "KIND STATUS START_US END_US".
func parseExitLine(line string) (exitRecord, error) {
	f := strings.Fields(line)
	bad := fmt.Errorf("the exit file holds %q, not what flow's job script writes", line)
	if len(f) != 4 {
		return exitRecord{}, bad
	}
	status, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseInt(f[2], 10, 64)
	end, err3 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return exitRecord{}, bad
	}
	switch f[0] {
	case "exit", "signal", "timeout", "notfound", "nodir":
	default:
		return exitRecord{}, bad
	}
	return exitRecord{Kind: f[0], Status: status, Started: time.UnixMicro(start), Finished: time.UnixMicro(end)}, nil
}

// signalName names a Linux signal number, as the cluster's nodes number
// them (not necessarily as flow's own platform does).
func signalName(n int) string {
	names := [...]string{1: "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
		"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD",
		"SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM",
		"SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"}
	if n > 0 && n < len(names) {
		return names[n]
	}
	return "SIG" + strconv.Itoa(n)
}
