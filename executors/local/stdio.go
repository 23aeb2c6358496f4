package local

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/flow-cwl/flow/executors"
)

// stdio is the three files a task's process starts with, and what flow
// keeps of them afterwards.
type stdio struct {
	stdin, stdout, stderr *os.File
	opened                []*os.File // files we opened that the child inherits; closed after start

	keep     *os.File // the stderr file, kept open for its tail
	tail     *tailBuf // or the tail of the stderr pipe
	tailPipe *os.File
	tailDone chan struct{}
}

// openStdio opens the task's stdin, stdout and stderr. An empty path means
// /dev/null, except for stderr, which then goes to a pipe whose tail is
// kept for Result.StderrTail. Stdout and stderr naming the same file share
// one open file, so their output interleaves instead of overwriting.
func (e *Executor) openStdio(t *executors.Task) (*stdio, error) {
	s := &stdio{stdin: e.devNull, stdout: e.devNull}
	var err error
	if t.Stdin != "" {
		if s.stdin, err = os.Open(resolve(t.Dir, t.Stdin)); err != nil {
			return nil, s.fail(t, "stdin", err)
		}
		s.opened = append(s.opened, s.stdin)
	}
	if t.Stderr != "" {
		// Read-write, so the tail can be read back through the same file.
		if s.stderr, err = create(resolve(t.Dir, t.Stderr), os.O_RDWR); err != nil {
			return nil, s.fail(t, "stderr", err)
		}
		s.keep = s.stderr
	}
	if t.Stdout != "" {
		if t.Stdout == t.Stderr {
			s.stdout = s.stderr
		} else if s.stdout, err = create(resolve(t.Dir, t.Stdout), os.O_WRONLY); err != nil {
			return nil, s.fail(t, "stdout", err)
		} else {
			s.opened = append(s.opened, s.stdout)
		}
	}
	if t.Stderr == "" {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, s.fail(t, "stderr", err)
		}
		s.stderr, s.tailPipe = w, r
		s.opened = append(s.opened, w)
		s.tail, s.tailDone = &tailBuf{}, make(chan struct{})
		go drain(r, s.tail, s.tailDone)
	}
	return s, nil
}

func create(path string, mode int) (*os.File, error) {
	return os.OpenFile(path, mode|os.O_CREATE|os.O_TRUNC, 0o644)
}

func resolve(dir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// closeChildSide closes our copies of the files the child now holds.
func (s *stdio) closeChildSide() {
	for _, f := range s.opened {
		f.Close()
	}
	s.opened = nil
}

// abandon releases what flow kept, when the process did not start.
func (s *stdio) abandon() {
	s.closeChildSide()
	if s.keep != nil {
		s.keep.Close()
	}
	if s.tailPipe != nil {
		s.tailPipe.Close() // ends the drain goroutine
		<-s.tailDone
	}
}

// fail abandons what is open so far and explains which file failed.
func (s *stdio) fail(t *executors.Task, which string, err error) error {
	s.abandon()
	return fmt.Errorf("task %q cannot open its %s: %w", t.ID, which, err)
}
