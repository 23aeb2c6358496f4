// Package logging builds the zerolog logger that flow's commands hand to
// every package they wire together. Only cmd/ decides where logs go, how
// they look and how much of them there is; packages receive a logger and
// narrow it with fields.
package logging

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// Format is how log lines are written.
type Format string

const (
	// Console is one human-readable line per event, coloured on a terminal.
	Console Format = "console"
	// JSON is one JSON object per event, for machines.
	JSON Format = "json"
)

// Options choose a logger's format and level.
type Options struct {
	Format Format
	Quiet  bool // warnings and errors only
	Debug  bool // everything, including debug events; wins over Quiet
	// Terminal says the log ends on a terminal though the writer given
	// to New is not one itself (it wraps the terminal), so lines are
	// coloured all the same.
	Terminal bool
}

// ParseFormat checks a --log-format value.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Console, JSON:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown log format %q; use console or json", s)
}

// New returns a logger writing to w.
func New(w io.Writer, opts Options) zerolog.Logger {
	level := zerolog.InfoLevel
	switch {
	case opts.Debug:
		level = zerolog.DebugLevel
	case opts.Quiet:
		level = zerolog.WarnLevel
	}
	if opts.Format != JSON {
		w = zerolog.ConsoleWriter{
			Out:        w,
			NoColor:    !opts.Terminal && !IsTerminal(w),
			TimeFormat: time.TimeOnly,
		}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// IsTerminal reports whether w is a terminal, where colour and a status
// line help rather than litter a log file with escape codes.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
