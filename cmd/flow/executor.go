package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/local"
)

// registry lists the executors this binary can run on, configured from
// the command line. It is written out here rather than filled by init
// functions, so what flow can do is visible in one place.
func registry(o runOptions, log zerolog.Logger) executors.Registry {
	return executors.Registry{
		local.Name: func(context.Context) (executors.Executor, error) {
			return local.New(local.Options{MaxParallel: o.Parallel, SharedPIDNamespace: o.SharedPIDNS, Logger: log})
		},
	}
}

// newLocalExecutor makes the executor for --run_local.
func newLocalExecutor(ctx context.Context, o runOptions, log zerolog.Logger) (executors.Executor, error) {
	return registry(o, log).New(ctx, local.Name)
}
