package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/flow-cwl/flow/provenance"
)

// showOptions is "flow show RUN [-o json] [--db FILE]".
type showOptions struct {
	DB     string
	Output string
	Run    string // a run id or a unique prefix of one
	Daemon daemonFlags
}

// cmdShow is "flow show": parse, then runShow.
func cmdShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o showOptions
	fs := flag.NewFlagSet("flow show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flow show RUN [-o text|json] [--db FILE]\n\nDescribes a run and its steps. RUN may be a unique prefix of a run id.\n\nflags:")
		fs.PrintDefaults()
	}
	addDBFlag(fs, &o.DB)
	addDaemonFlags(fs, &o.Daemon)
	pos, err := parseFlags(fs, args, 1, 1)
	if err != nil {
		return err
	}
	o.Run, o.Output = pos[0], o.Daemon.Output
	if o.Daemon.URL != "" || os.Getenv("FLOW_URL") != "" {
		return showRemote(ctx, o, stdout)
	}
	return runShow(ctx, o, stdout)
}

// runShow prints a run and its step attempts on w.
func runShow(ctx context.Context, o showOptions, w io.Writer) error {
	return withRun(ctx, o.DB, o.Run, func(db *provenance.DB, r *provenance.Run) error {
		r.State = r.Alive(hostname())
		steps, err := db.Attempts(ctx, r.ID)
		if err != nil {
			return err
		}
		if o.Output == "json" {
			if steps == nil {
				steps = []*provenance.Attempt{}
			}
			return printJSON(w, struct {
				Run   *provenance.Run       `json:"run"`
				Steps []*provenance.Attempt `json:"steps"`
			}{r, steps})
		}
		if err := writeRunSummary(w, r); err != nil {
			return err
		}
		return writeStepsTable(w, steps)
	})
}

// writeRunSummary prints the run's fields that matter to a person, one
// per line, leaving out those that are empty.
func writeRunSummary(w io.Writer, r *provenance.Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	line("run", r.ID)
	line("workflow", r.Workflow)
	line("state", string(r.State))
	line("error", oneLine(r.Error))
	switch r.State {
	case provenance.RunDied:
		line("note", "the flow process running it is gone; to continue: flow run --resume "+r.ID)
	case provenance.RunUnknown:
		line("note", "it runs or ran on "+r.Host+", whose processes cannot be seen from here")
	}
	started := formatTime(r.Started)
	if !r.Finished.IsZero() {
		started += ", took " + elapsed(r.Started, r.Finished)
	}
	line("started", started)
	line("by", runBy(r))
	line("inputs", summarizeInputs(r.Inputs))
	line("outdir", r.Outdir)
	line("work dir", r.WorkDir)
	return tw.Flush()
}

// runBy says who ran it where: "ada@node1, local executor, flow v1.2.0".
func runBy(r *provenance.Run) string {
	var parts []string
	switch {
	case r.User != "" && r.Host != "":
		parts = append(parts, r.User+"@"+r.Host)
	case r.User != "" || r.Host != "":
		parts = append(parts, r.User+r.Host)
	}
	if r.Executor != "" {
		parts = append(parts, r.Executor+" executor")
	}
	if r.FlowVersion != "" {
		parts = append(parts, "flow "+r.FlowVersion)
	}
	return strings.Join(parts, ", ")
}

// writeStepsTable prints one aligned line per step attempt.
func writeStepsTable(w io.Writer, steps []*provenance.Attempt) error {
	if len(steps) == 0 {
		_, err := fmt.Fprintln(w, "\nno steps recorded")
		return err
	}
	fmt.Fprintln(w, "\nsteps:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTATE\tEXIT\tDURATION\tHOST\tIMAGE\tJOB ID\tREUSED")
	for _, a := range steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", jobLabel(a), a.State, exitCode(a),
			elapsed(a.Started, a.Finished), dash(a.Host), dash(imageLabel(a)), dash(a.JobID), yesNo(a.State == provenance.StepReused))
	}
	return tw.Flush()
}

// imageLabel names the image a job ran in with the start of its digest,
// e.g. "debian:stable-slim@sha256:1a2b3c4d5e6f", which tells apart two
// images pulled under one tag.
func imageLabel(a *provenance.Attempt) string {
	d := a.ImageDigest
	if a.Image == "" || d == "" {
		return a.Image
	}
	if len(d) > len("sha256:")+12 {
		d = d[:len("sha256:")+12]
	}
	return a.Image + "@" + d
}

// jobLabel is the job's path, with the attempt number from the second try on.
func jobLabel(a *provenance.Attempt) string {
	if a.Attempt > 1 {
		return fmt.Sprintf("%s (try %d)", a.Job, a.Attempt)
	}
	return a.Job
}

// exitCode is the tool's exit code for jobs that ran to the end; a
// skipped, reused or running job has none.
func exitCode(a *provenance.Attempt) string {
	if a.State != provenance.StepSucceeded && a.State != provenance.StepFailed {
		return "-"
	}
	return strconv.Itoa(a.ExitCode)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// summarizeInputs renders an input object on one line, inputs sorted by
// name: "count=3, reads=r1.fq, names=[a, b]".
func summarizeInputs(in map[string]any) string {
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + summarizeValue(in[k])
	}
	return strings.Join(parts, ", ")
}

// summarizeValue is a short rendering of a CWL value: a File or Directory
// by its base name, long strings and arrays cut short.
func summarizeValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(shorten(v, 40))
	case map[string]any:
		if class, _ := v["class"].(string); class == "File" || class == "Directory" {
			return fileName(v)
		}
		return fmt.Sprintf("{%d fields}", len(v))
	case []any:
		return summarizeArray(v)
	}
	return fmt.Sprint(v)
}

func summarizeArray(v []any) string {
	const show = 3
	parts := make([]string, 0, show)
	for i, x := range v {
		if i == show {
			return fmt.Sprintf("[%s, ... %d items]", strings.Join(parts, ", "), len(v))
		}
		parts = append(parts, summarizeValue(x))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// fileName is a File or Directory's basename, from whichever of its
// fields is set.
func fileName(f map[string]any) string {
	if b, _ := f["basename"].(string); b != "" {
		return b
	}
	for _, k := range []string{"path", "location"} {
		if p, _ := f[k].(string); p != "" {
			return path.Base(p)
		}
	}
	return "(" + f["class"].(string) + ")"
}

// shorten cuts s to at most n runes, marking the cut with "...".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}
