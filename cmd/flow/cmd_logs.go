package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/flow-cwl/flow/provenance"
)

// logsOptions is "flow logs RUN [STEP] [--stdout|--stderr] [--db FILE]".
type logsOptions struct {
	DB     string
	Run    string
	Step   string // a job path, or a step id when the step ran one job
	Stdout bool   // only the captured stdout
	Stderr bool   // only the captured stderr
	Daemon daemonFlags
}

// cmdLogs is "flow logs": parse, then runLogs.
func cmdLogs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o logsOptions
	fs := flag.NewFlagSet("flow logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: flow logs RUN [STEP] [--stdout|--stderr] [--db FILE]

Prints what a job of a run wrote to stderr and stdout. STEP is a job
(main/align/2) or a step id (align) when that step ran one job. Without
STEP, lists the jobs that left logs.

flags:`)
		fs.PrintDefaults()
	}
	addDBFlag(fs, &o.DB)
	addDaemonFlags(fs, &o.Daemon)
	fs.BoolVar(&o.Stdout, "stdout", false, "print only the job's stdout, without a header")
	fs.BoolVar(&o.Stderr, "stderr", false, "print only the job's stderr, without a header")
	pos, err := parseFlags(fs, args, 1, 2)
	if err != nil {
		return err
	}
	if o.Stdout && o.Stderr {
		return usagef("give --stdout or --stderr, not both; without either flow logs prints both")
	}
	o.Run = pos[0]
	if len(pos) == 2 {
		o.Step = pos[1]
	}
	if o.Daemon.URL != "" || os.Getenv("FLOW_URL") != "" {
		return logsRemote(ctx, o, stdout)
	}
	return runLogs(ctx, o, stdout)
}

// runLogs prints one job's logs, or without a step lists the jobs that
// have some.
func runLogs(ctx context.Context, o logsOptions, w io.Writer) error {
	return withRun(ctx, o.DB, o.Run, func(db *provenance.DB, r *provenance.Run) error {
		attempts, err := db.Attempts(ctx, r.ID)
		if err != nil {
			return err
		}
		jobs := latestAttempts(attempts)
		if o.Step == "" {
			return writeLogsList(w, r.ID, jobs)
		}
		a, err := selectJob(jobs, o.Step)
		if err != nil {
			return err
		}
		return printLogs(w, a, o)
	})
}

// latestAttempts keeps the last try of each job, in the order the jobs
// first started: the logs of an earlier, failed try were superseded.
func latestAttempts(attempts []*provenance.Attempt) []*provenance.Attempt {
	index := map[string]int{}
	var jobs []*provenance.Attempt
	for _, a := range attempts {
		if i, ok := index[a.Job]; ok {
			if a.Attempt >= jobs[i].Attempt {
				jobs[i] = a
			}
			continue
		}
		index[a.Job] = len(jobs)
		jobs = append(jobs, a)
	}
	return jobs
}

// selectJob finds the one job sel names: a job path, exactly or by its
// end (align/2 for main/align/2), or a step id. Several matches (a
// scattered step) are an error that lists them.
func selectJob(jobs []*provenance.Attempt, sel string) (*provenance.Attempt, error) {
	var matches []*provenance.Attempt
	for _, a := range jobs {
		if a.Job == sel {
			return a, nil
		}
		if a.StepID == sel || strings.HasSuffix(a.Job, "/"+sel) {
			matches = append(matches, a)
		}
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("no job or step %q in this run; flow logs RUN lists them", sel)
	case 1:
		return matches[0], nil
	}
	const show = 5
	names := make([]string, 0, show+1)
	for i, a := range matches {
		if i == show {
			names = append(names, fmt.Sprintf("... (%d more)", len(matches)-show))
			break
		}
		names = append(names, a.Job)
	}
	return nil, fmt.Errorf("%q matches %d jobs; choose one: %s", sel, len(matches), strings.Join(names, ", "))
}

// writeLogsList prints the jobs that recorded a stdout or stderr file.
func writeLogsList(w io.Writer, runID string, jobs []*provenance.Attempt) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	n := 0
	for _, a := range jobs {
		logs := logNames(a)
		if logs == "" {
			continue
		}
		if n == 0 {
			fmt.Fprintln(tw, "JOB\tSTATE\tLOGS")
		}
		n++
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Job, a.State, logs)
	}
	if n == 0 {
		_, err := fmt.Fprintf(w, "run %s recorded no logs\n", runID)
		return err
	}
	return tw.Flush()
}

func logNames(a *provenance.Attempt) string {
	var names []string
	if a.Stderr != "" {
		names = append(names, "stderr")
	} else if a.StderrTail != "" {
		names = append(names, "stderr (its end)")
	}
	if a.Stdout != "" {
		names = append(names, "stdout")
	}
	return strings.Join(names, ", ")
}

// printLogs copies a job's log files to w: one alone as it is, both under
// headers that say which is which.
func printLogs(w io.Writer, a *provenance.Attempt, o logsOptions) error {
	if a.Stderr == "" && a.StderrTail != "" && !o.Stdout {
		// stderr went nowhere but flow kept its last lines
		if a.Stdout != "" && !o.Stderr {
			fmt.Fprintf(w, "==> stderr (its last lines) <==\n%s\n", strings.TrimRight(a.StderrTail, "\n"))
			fmt.Fprintf(w, "==> stdout (%s) <==\n", a.Stdout)
			return copyLog(w, a, "stdout", a.Stdout)
		}
		_, err := fmt.Fprintln(w, strings.TrimRight(a.StderrTail, "\n"))
		return err
	}
	switch {
	case o.Stderr:
		return copyLog(w, a, "stderr", a.Stderr)
	case o.Stdout:
		return copyLog(w, a, "stdout", a.Stdout)
	case a.Stderr == "" && a.Stdout == "":
		return fmt.Errorf("job %s recorded no stdout or stderr", a.Job)
	case a.Stdout == "":
		return copyLog(w, a, "stderr", a.Stderr)
	case a.Stderr == "":
		return copyLog(w, a, "stdout", a.Stdout)
	}
	for _, l := range []struct{ name, path string }{{"stderr", a.Stderr}, {"stdout", a.Stdout}} {
		fmt.Fprintf(w, "==> %s (%s) <==\n", l.name, l.path)
		lw := &lastByte{w: w}
		if err := copyLog(lw, a, l.name, l.path); err != nil {
			fmt.Fprintf(w, "(%s)\n", err)
		} else if lw.last != 0 && lw.last != '\n' {
			fmt.Fprintln(w)
		}
	}
	return nil
}

// copyLog copies one log file to w as it is.
func copyLog(w io.Writer, a *provenance.Attempt, name, path string) error {
	if path == "" {
		return fmt.Errorf("job %s recorded no %s", a.Job, name)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the %s of job %s, %s, no longer exists (its work directory was removed?)", name, a.Job, path)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// lastByte remembers the last byte written through it, so that a log
// without a final newline does not run into the next header.
type lastByte struct {
	w    io.Writer
	last byte
}

func (l *lastByte) Write(p []byte) (int, error) {
	if len(p) > 0 {
		l.last = p[len(p)-1]
	}
	return l.w.Write(p)
}
