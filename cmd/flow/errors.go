package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/flow-cwl/flow/schema"
)

// usageError is a mistake on the command line; flow exits with 2 for it,
// after the message, as most command-line tools do.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseError classifies a flag-parsing error: -h is not a failure, and
// anything else is a usage mistake.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &usageError{msg: err.Error()}
}

// report prints err as one line on stderr and returns the exit code.
func report(ctx context.Context, err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "flow: interrupted; running jobs were stopped")
		return exitInterrupted
	case errors.Is(err, syscall.EPIPE):
		// The reader of a listing went away (flow runs | head): what a
		// process killed by SIGPIPE would do, without the signal (main).
		return exitSIGPIPE
	}
	fmt.Fprintf(stderr, "flow: %s\n", message(err))
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, schema.ErrUnsupported):
		return exitUnsupported
	}
	return exitFailure
}

// message renders err for a person: paths inside the working directory
// made relative to it, and everything on one line so that the first line
// of stderr is the whole story.
func message(err error) string {
	var se *schema.Error
	if errors.As(err, &se) {
		se.Pos.File = shortPath(se.Pos.File)
	}
	msg := oneLine(err.Error())
	if wd, err := os.Getwd(); err == nil && wd != "/" {
		// Only paths that start a word: "file:///wd/x" stays a valid URI.
		re := regexp.MustCompile(`(^|[\s"'(=])` + regexp.QuoteMeta(wd+"/"))
		msg = re.ReplaceAllString(msg, "$1")
	}
	return msg
}

// oneLine joins the lines of a multi-line message (errors.Join, a tool's
// stderr tail) with "; ".
func oneLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "; ")
}

// shortPath returns p relative to the working directory when p lies
// inside it, and p unchanged otherwise.
func shortPath(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return p
	}
	return rel
}
