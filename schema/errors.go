package schema

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupported marks a document that needs a feature flow does not
// support; the CLI exits with code 33 for it, as other CWL runners do.
var ErrUnsupported = errors.New("unsupported requirement")

// Error is a problem with a document or an input object, at a place in it.
type Error struct {
	Pos   Pos
	Field string // dotted path of the field, e.g. "inputs.reads.type"; may be empty
	Msg   string
	Err   error // wrapped cause, e.g. ErrUnsupported
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// errAt builds an Error at node n (n may be nil, then the position is unknown).
func errAt(n *Node, field, format string, args ...any) *Error {
	e := &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Pos = n.Pos
	}
	return e
}

// unsupportedAt builds an Error that wraps ErrUnsupported.
func unsupportedAt(n *Node, field, format string, args ...any) *Error {
	e := errAt(n, field, format, args...)
	e.Err = ErrUnsupported
	return e
}

func errorsAs(err error, target **Error) bool { return errors.As(err, target) }
