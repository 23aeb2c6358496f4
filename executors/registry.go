package executors

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Factory makes an executor. Factories are closures that cmd/ writes over
// its own configuration, so executors need no shared config type.
type Factory func(ctx context.Context) (Executor, error)

// Registry maps executor names to factories. It is filled in explicitly by
// whoever builds the program; there is no global registry.
//
//	reg := executors.Registry{
//		"local": func(context.Context) (executors.Executor, error) {
//			return local.New(local.Options{MaxParallel: n, Logger: log})
//		},
//	}
type Registry map[string]Factory

// New makes the executor registered under name.
func (r Registry) New(ctx context.Context, name string) (Executor, error) {
	f, ok := r[name]
	if !ok {
		return nil, fmt.Errorf("%w %q; known executors are: %s", ErrUnknownExecutor, name, strings.Join(r.Names(), ", "))
	}
	ex, err := f(ctx)
	if err != nil {
		return nil, fmt.Errorf("setting up the %s executor: %w", name, err)
	}
	return ex, nil
}

// Names returns the registered names, sorted.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
