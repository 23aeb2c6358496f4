package provenance

import (
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"io"
	"strings"
	"time"
)

// WriteLineageText prints a lineage tree for a person to read:
//
//	/home/ana/out/report.txt
//	  content sha1$2fd4e1c6…, 1.2 KiB
//	  made by run 20261121T193600.123Z-k3f9q2, step report (job main/report, attempt 1)
//	  workflow /home/ana/pipeline.cwl#main
//	  succeeded 2026-11-21 19:36:05 UTC after 2.1s on node7
//	  command: python report.py counts.tsv
//	  from:
//	    /home/ana/data/reads.fq
//	      content sha1$0bee89b0…, 3 B
//	      a workflow input: no recorded step made it
func WriteLineageText(w io.Writer, n *LineageNode) error {
	p := &printer{w: w}
	p.node(n, 0)
	return p.err
}

type printer struct {
	w       io.Writer
	err     error
	lastRun string // the run whose workflow was named last
}

func (p *printer) line(depth int, format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, "%s%s\n", strings.Repeat("  ", depth), fmt.Sprintf(format, args...))
	}
}

func (p *printer) node(n *LineageNode, depth int) {
	p.line(depth, "%s", n.File.Path)
	p.line(depth+1, "content %s, %s", shortSum(n.File.SHA1), humanSize(n.File.Size))
	if n.Delivered && n.Run != nil {
		p.line(depth+1, "written there by run %s", n.Run.ID)
	}
	switch {
	case n.Repeated:
		p.line(depth+1, "(its lineage is shown above)")
		return
	case n.Attempt == nil && n.OfRun != "":
		p.line(depth+1, "no step of run %s made it: an input of the run (--by-content looks for any run that made these bytes)", n.OfRun)
		return
	case n.Attempt == nil:
		p.line(depth+1, "a workflow input: no recorded step made it")
		return
	}
	p.attempt(n.Attempt, n.Run, depth+1)
	if n.Truncated {
		p.line(depth+1, "from: ... (more than %d steps back; not followed)", MaxLineageDepth)
		return
	}
	if len(n.Inputs) > 0 {
		p.line(depth+1, "from:")
	}
	for _, in := range n.Inputs {
		p.node(in, depth+2)
	}
}

func (p *printer) attempt(a *Attempt, r *Run, depth int) {
	step := a.StepID
	if step == "" {
		step = a.Tool
	}
	p.line(depth, "made by run %s, step %s (job %s, attempt %d)", a.RunID, step, a.Job, a.Attempt)
	if r != nil && r.ID != p.lastRun { // once per run, not once per step
		p.line(depth, "workflow %s", r.Workflow)
		p.lastRun = r.ID
	}
	when := string(a.State)
	if !a.Finished.IsZero() {
		when += " " + a.Finished.UTC().Format("2006-01-02 15:04:05 MST")
		if !a.Started.IsZero() {
			when += " after " + a.Finished.Sub(a.Started).Round(time.Millisecond).String()
		}
	}
	if a.Host != "" {
		when += " on " + a.Host
	}
	p.line(depth, "%s", when)
	if a.Image != "" {
		p.line(depth, "container: %s", a.Image)
	}
	if len(a.CommandLine) > 0 {
		p.line(depth, "command: %s", shellJoin(a.CommandLine))
	}
}

// shortSum abbreviates a checksum the way git abbreviates commits.
func shortSum(sum string) string {
	if len(sum) > len(sha1Prefix)+12 {
		return sum[:len(sha1Prefix)+12] + "…"
	}
	return sum
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// shellJoin quotes arguments that a shell would split or expand, so the
// printed command can be pasted back into a terminal.
func shellJoin(args []string) string { return shell.Display(args) }
