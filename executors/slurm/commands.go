package slurm

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"slices"
	"strings"
)

// Each Runner call is one small bash script whose first line says what it
// is ("# flow: squeue"), for error messages and for tests that count calls.
// flowTry runs a command with its stdout passed through and its stderr
// kept in FLOW_ERR, so a script can tell an expected complaint (a job id
// Slurm has already forgotten) from a real failure.
const flowTry = `flow_try() { { FLOW_ERR=$("$@" 2>&1 >&3); } 3>&1; }
`

// baseIDs are the distinct job ids to ask squeue about: an array's id
// once for all its tasks.
func baseIDs(jobs []*job) []string {
	var ids []string
	for _, j := range jobs {
		base, _, _ := strings.Cut(j.st.JobID, "_")
		ids = append(ids, base)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// squeue asks about all the given jobs in one call. A job Slurm no longer
// knows is simply absent from the result.
func (e *Executor) squeue(ctx context.Context, jobs []*job) (map[string]status, error) {
	script := "# flow: squeue\n" + flowTry +
		"flow_try squeue -h -t all -r -j " + shell.Quote(strings.Join(baseIDs(jobs), ",")) + " -o '%i|%T|%r' && exit 0\n" +
		`case $FLOW_ERR in *"Invalid job id"*) exit 0 ;; esac
printf '%s\n' "$FLOW_ERR" >&2
exit 1
`
	out, err := e.command(ctx, script)
	if err != nil {
		return nil, err
	}
	return parseSqueue(out)
}

// acctMode is what sacct can tell on this cluster.
type acctMode int

const (
	acctUnknown acctMode = iota // not tried yet
	acctDB                      // slurmdbd: sacct works
	acctJobComp                 // no database, but the job completion log: sacct -c
	acctNone                    // nothing: the exit files are all there is
)

// sacct asks the accounting records about jobs squeue no longer shows, in
// one call that also learns, the first time, which kind of accounting the
// cluster has. It returns nil when there is none.
func (e *Executor) sacct(ctx context.Context, jobs []*job) (map[string]status, error) {
	e.mu.Lock()
	mode := e.acct
	e.mu.Unlock()
	if mode == acctNone || len(jobs) == 0 {
		return nil, nil
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.st.JobID)
	}
	list := shell.Quote(strings.Join(ids, ","))
	script := "# flow: sacct\n" + flowTry +
		"printf '#db\\n'\nflow_try sacct -n -P -j " + list + " -o JobID,State,ExitCode,Reason && exit 0\n" +
		`case $FLOW_ERR in *disabled*|*"not configured"*|*accounting_storage/none*) ;; *) printf '%s\n' "$FLOW_ERR" >&2; exit 1 ;; esac
printf '#jobcomp\n'
sacct -c -n -P -j ` + list + ` -o JobID,State,ExitCode 2>/dev/null && exit 0
printf '#none\n'
`
	out, err := e.command(ctx, script)
	if err != nil {
		return nil, err
	}
	mode, data := splitSacct(out)
	e.mu.Lock()
	if e.acct != mode {
		e.log.Debug().Int("mode", int(mode)).Msg("learned what sacct can do on this cluster")
	}
	e.acct = mode
	e.mu.Unlock()
	return parseSacct(data), nil
}

// splitSacct finds the last "#db", "#jobcomp" or "#none" marker line the
// sacct script printed and returns the lines after it.
func splitSacct(out []byte) (acctMode, []byte) {
	markers := map[string]acctMode{"#db": acctDB, "#jobcomp": acctJobComp, "#none": acctNone}
	mode := acctNone
	var data strings.Builder
	for line := range strings.Lines(string(out)) {
		if m, ok := markers[strings.TrimSpace(line)]; ok {
			mode = m
			data.Reset()
			continue
		}
		data.WriteString(line)
	}
	return mode, []byte(data.String())
}

// exitInfo is what the cluster's files say about an ended task.
type exitInfo struct {
	line string // the exit file's line, "" when there is no exit file
	tail string // the last 4 KiB of its stderr
}

// readExits reads the exit files and stderr tails of the given jobs, in
// one call.
func (e *Executor) readExits(ctx context.Context, jobs []*job) ([]exitInfo, error) {
	var b strings.Builder
	b.WriteString(`# flow: read exit files
flow_read() {
	local e= t=
	if [[ -f $1 ]]; then IFS= read -r e <"$1" || true; fi
	if [[ -f $2 ]]; then t=$(tail -c 4096 -- "$2" | base64 | tr -d '\n'); fi
	printf '%s\t%s\n' "${e:--}" "${t:--}"
}
`)
	for _, j := range jobs {
		fmt.Fprintf(&b, "flow_read %s %s\n", shell.Quote(j.st.ExitFile), shell.Quote(j.st.StderrFile))
	}
	out, err := e.command(ctx, b.String())
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(jobs) {
		return nil, fmt.Errorf("reading %d exit files printed %d lines", len(jobs), len(lines))
	}
	infos := make([]exitInfo, len(jobs))
	for i, l := range lines {
		line, tail, _ := strings.Cut(l, "\t")
		if line != "-" {
			infos[i].line = line
		}
		if t, err := base64.StdEncoding.DecodeString(tail); err == nil && tail != "-" {
			infos[i].tail = string(t)
		}
	}
	return infos, nil
}

// scancel cancels one job or array task. A job that has already ended is
// not an error: Cancel after the end is a no-op.
func (e *Executor) scancel(ctx context.Context, jobID string) error {
	script := "# flow: scancel\n" + flowTry + "flow_try scancel " + shell.Quote(jobID) + " && exit 0\n" +
		`case $FLOW_ERR in *"Invalid job id"*|*"already completing or completed"*) exit 0 ;; esac
printf '%s\n' "$FLOW_ERR" >&2
exit 1
`
	if _, err := e.command(ctx, script); err != nil {
		return fmt.Errorf("cancelling Slurm job %s: %w", jobID, err)
	}
	return nil
}

// command runs one script on the cluster, logging which Slurm command it
// is (from its first line, "# flow: squeue"), so that a run's debug log
// shows every call flow makes to the scheduler.
func (e *Executor) command(ctx context.Context, script string) ([]byte, error) {
	first, _, _ := strings.Cut(script, "\n")
	e.log.Debug().Str("command", strings.TrimPrefix(first, "# flow: ")).Msg("slurm command")
	return e.opts.Runner.Run(ctx, script)
}
