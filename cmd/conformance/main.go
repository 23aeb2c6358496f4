// Command conformance runs the CWL conformance suite against a CWL runner;
// see package conformance for how, and -h for the flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/flow-cwl/flow/conformance"
)

func main() {
	// Ctrl-C cancels the run: runners in flight are killed, the tests they
	// were running fail, and the report is still printed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := conformance.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
