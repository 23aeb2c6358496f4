package local

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/executors"
)

// lookPath finds the program for t.Argv[0] the way a shell would, but in
// the task's PATH, not flow's. A name with a "/" is used as it is (relative
// names then resolve against the task's directory, where the process
// starts); so are relative PATH entries.
//
// Like a shell's hash table, found maps a name and a PATH of absolute
// directories to where the name was found, so that the thousand jobs of a
// scatter look it up once; each use checks that the program is still
// there.
func (e *Executor) lookPath(t *executors.Task) (string, error) {
	name := t.Argv[0]
	if strings.Contains(name, "/") {
		return name, nil
	}
	path, ok := t.Env["PATH"]
	if !ok {
		return "", notFound("task %q cannot run %q: its environment has no PATH to look for it in", t.ID, name)
	}
	key := foundKey{name: name, path: path}
	if v, ok := e.found.Load(key); ok && isExecutable(v.(string)) {
		return v.(string), nil
	}
	absolute := true
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		absolute = absolute && filepath.IsAbs(dir)
		candidate := resolve(t.Dir, filepath.Join(dir, name))
		if isExecutable(candidate) {
			if absolute {
				e.found.Store(key, candidate)
			}
			return candidate, nil
		}
	}
	return "", notFound("task %q cannot run %q: it is not in the task's PATH (%s)", t.ID, name, path)
}

type foundKey struct{ name, path string }

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// notFoundError is a sentence that wraps executors.ErrNotFound without
// repeating its text.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return executors.ErrNotFound }

func notFound(format string, args ...any) error {
	return &notFoundError{msg: fmt.Sprintf(format, args...)}
}
