// Command flow runs Common Workflow Language (CWL v1.2) workflows.
//
//	flow run [flags] DOCUMENT [JOB] [--input value ...]
//	flow validate DOCUMENT
//	flow graph [--format dot|mermaid] DOCUMENT
//	flow runs | show RUN | logs RUN [STEP] | prov RUN | lineage PATH
//	flow cache ls|prune
//	flow images pull DOCUMENT | ls
//	flow version
//
// Each subcommand lives in its own file (cmd_run.go, ...) as a small
// options struct, a parser, and a runX(ctx, opts, ...) function that tests
// call directly. Everything here is wiring: the work happens in the
// schema, engine and executors packages.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/flow-cwl/flow/internal/gctune"
)

// Exit codes. 33 is what CWL runners use for "this document needs a
// feature the runner does not support"; the conformance suite relies on it.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitUnsupported = 33
	exitInterrupted = 130
	exitSIGPIPE     = 128 + int(syscall.SIGPIPE) // as a shell reports a process SIGPIPE killed
)

const usage = `usage: flow <command> [arguments]

Commands:
  run       run a CWL workflow or tool:   flow run wf.cwl inputs.yml --outdir results/
  validate  check a CWL document:         flow validate wf.cwl
  graph     draw a workflow's steps:      flow graph wf.cwl --format mermaid
  runs      list recorded runs:           flow runs -n 5
  show      describe a run and its steps: flow show 20261121T1936
  logs      print a job's stderr/stdout:  flow logs 20261121T1936 align
  prov      export a run's provenance:    flow prov 20261121T1936 --format ro-crate -o crate/
  lineage   tell how a file was made:     flow lineage results/report.tsv
  cache     list or prune the step cache: flow cache prune --older-than 30d
  images    fetch or list container images: flow images pull wf.cwl
  clusters  check the compute clusters:   flow clusters status
  status    a daemon run's state (-f follows it): flow status RUN -f --compute_url URL
  cancel    cancel a daemon run:         flow cancel RUN
  outputs   download a daemon run's outputs: flow outputs RUN --outdir dir/
  ssh-keys  the daemon's SSH keys:       flow ssh-keys keygen --name hpc1
  systems   the daemon's clusters:       flow systems status
  workflows the daemon's registered workflows: flow workflows trigger align -i threads=8 -f
  data      copy S3 or HTTPS data:      flow data copy s3://b/k --cluster hpc1 --to /scratch/x
  version   print flow's version

Run "flow <command> -h" for a command's flags.
`

func main() {
	// Ctrl-C and SIGTERM cancel the context: running jobs are killed and
	// flow exits with 130 once they are gone.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A reader of flow's output that goes away (flow run ... | head -1)
	// must not kill the run half-way: Go lets SIGPIPE on fd 1 and 2 end
	// the process unless the program asks for the signal, and then the
	// write returns EPIPE instead. Notify rather than Ignore, because an
	// ignored SIGPIPE is inherited by the jobs flow starts, and tools
	// rely on dying by it in their own pipelines.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	gctune.Start() // a run's heap is small and busy: collect less often
	stopProfile := startCPUProfile(os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and turns its error into one line on
// stderr and an exit code. A panic anywhere below is a bug in flow; it
// still ends as one line rather than a stack trace.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "flow: internal error (please report it): %v\n", oneLine(fmt.Sprint(r)))
			code = exitFailure
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		err = cmdRun(ctx, rest, stdout, stderr)
	case "validate":
		err = cmdValidate(ctx, rest, stdout, stderr)
	case "data":
		err = cmdData(ctx, rest, stdout, stderr)
	case "graph":
		err = cmdGraph(rest, stdout, stderr)
	case "runs":
		err = cmdRuns(ctx, rest, stdout, stderr)
	case "show":
		err = cmdShow(ctx, rest, stdout, stderr)
	case "logs":
		err = cmdLogs(ctx, rest, stdout, stderr)
	case "prov":
		err = cmdProv(ctx, rest, stdout, stderr)
	case "lineage":
		err = cmdLineage(ctx, rest, stdout, stderr)
	case "clusters":
		err = cmdClusters(ctx, rest, stdout, stderr)
	case "cache":
		err = cmdCache(ctx, rest, stdout, stderr)
	case "images":
		err = cmdImages(ctx, rest, stdout, stderr)
	case "status":
		err = cmdStatus(ctx, rest, stdout, stderr)
	case "cancel":
		err = cmdCancel(ctx, rest, stdout, stderr)
	case "outputs":
		err = cmdOutputs(ctx, rest, stdout, stderr)
	case "ssh-keys":
		err = cmdSSHKeys(ctx, rest, stdout, stderr)
	case "systems":
		err = cmdSystems(ctx, rest, stdout, stderr)
	case "workflows":
		err = cmdWorkflows(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		err = cmdVersion(stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "flow: unknown command %q\n%s", cmd, usage)
		return exitUsage
	}
	return report(ctx, err, stderr)
}
