//go:build !linux

package local

import (
	"errors"
	"syscall"

	"github.com/flow-cwl/flow/executors"
)

// PID namespaces are Linux's: elsewhere tasks are flow's direct children.

type jobNamespace struct{}

type nsTask struct{}

func (e *Executor) namespaceFor() *jobNamespace { return nil }

// Close does nothing: there is no namespace to end.
func (e *Executor) Close() error { return nil }

func (ns *jobNamespace) signal(*nsTask, syscall.Signal) {}

func (ns *jobNamespace) wait(*nsTask) (syscall.WaitStatus, syscall.Rusage, error) {
	return 0, syscall.Rusage{}, errors.ErrUnsupported
}

func (p *proc) startInNamespace(*jobNamespace, *executors.Task, string, *stdio) error {
	return errors.ErrUnsupported
}
