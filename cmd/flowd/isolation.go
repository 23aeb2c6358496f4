package main

import (
	"context"
	"fmt"

	"github.com/flow-cwl/flow/executors/sandbox"
	"github.com/flow-cwl/flow/server"
)

// checkIsolation refuses an isolation setting flowd does not know, naming
// the file and the field: a typo must not silently leave teams' jobs
// unconfined, nor sandbox them when the operator meant otherwise.
func checkIsolation(path, value string) error {
	switch value {
	case "", server.IsolationSandbox, server.IsolationNone:
		return nil
	}
	return fmt.Errorf("%s: isolation: unknown value %q (the values are %s and %s)", path, value, server.IsolationSandbox, server.IsolationNone)
}

// checkSandbox reports whether a job sandbox, the kind `flow run
// --sandbox` puts every job in, can be made here. Where it cannot (no
// bwrap, user namespaces disabled), every run would fail at its first
// job, so flowd does not start.
func checkSandbox(ctx context.Context) error {
	return sandbox.Check(ctx, sandbox.Options{})
}
