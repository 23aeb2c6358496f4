package dag

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels callers branch on with errors.Is. The errors Build returns read
// as sentences and wrap one of these.
var (
	// ErrCycle: the steps depend on each other in a loop; see CycleError.
	ErrCycle = errors.New("steps form a cycle")
	// ErrDanglingSource: a step or workflow output reads a source that no
	// input or step provides; see SourceError.
	ErrDanglingSource = errors.New("source does not exist")
	// ErrDuplicateStep: two steps share an id.
	ErrDuplicateStep = errors.New("duplicate step id")
	// ErrInvalidStepID: a step id is empty or contains "/", which would
	// make sources that name it ambiguous.
	ErrInvalidStepID = errors.New("invalid step id")
)

// CycleError names the steps of one cycle, in data-flow order: each step
// reads from the one before it, and the first reads from the last.
type CycleError struct {
	Steps []string
}

func (e *CycleError) Error() string {
	path := append(append([]string(nil), e.Steps...), e.Steps[0])
	return "steps form a cycle: " + strings.Join(path, " -> ")
}

// Unwrap makes errors.Is(err, ErrCycle) true.
func (e *CycleError) Unwrap() error { return ErrCycle }

// SourceError is a source that resolves to nothing. Exactly one of Step and
// WorkflowOutput is set: the id of whatever reads the source.
type SourceError struct {
	Step           string
	WorkflowOutput string
	Source         string
	// MissingStep is set when the source names a step that does not exist;
	// otherwise the step exists and lacks the output, or the source has no
	// "/" at all and names no input.
	MissingStep bool
}

func (e *SourceError) Error() string {
	reader := fmt.Sprintf("step %q", e.Step)
	if e.Step == "" {
		reader = fmt.Sprintf("workflow output %q", e.WorkflowOutput)
	}
	i := strings.LastIndex(e.Source, "/")
	switch {
	case i < 0:
		return fmt.Sprintf("%s reads %q, which is neither an input nor a step output", reader, e.Source)
	case e.MissingStep:
		return fmt.Sprintf("%s reads %q, but there is no step %q", reader, e.Source, e.Source[:i])
	default:
		return fmt.Sprintf("%s reads %q, but step %q has no output %q", reader, e.Source, e.Source[:i], e.Source[i+1:])
	}
}

// Unwrap makes errors.Is(err, ErrDanglingSource) true.
func (e *SourceError) Unwrap() error { return ErrDanglingSource }

// idError is a sentence about a step id that wraps one of the id sentinels.
type idError struct {
	msg  string
	kind error
}

func (e *idError) Error() string { return e.msg }
func (e *idError) Unwrap() error { return e.kind }
