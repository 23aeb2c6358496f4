package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

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

// checkSandbox reports whether bubblewrap can make a sandbox here, the
// kind `flow run --sandbox` puts every job in (new user, mount, PID and
// network namespaces), by running true in one. It fails where user
// namespaces are disabled or bwrap is missing, which would otherwise fail
// every run at its first job.
func checkSandbox(ctx context.Context) error {
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		return fmt.Errorf("bubblewrap (bwrap) is not on PATH")
	}
	out, err := exec.CommandContext(ctx, bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true").CombinedOutput()
	if err != nil {
		msg := strings.Join(strings.Fields(string(out)), " ")
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s cannot make a sandbox: %s", bwrap, msg)
	}
	return nil
}
