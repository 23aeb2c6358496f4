package main

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/internal/logging"
	"github.com/flow-cwl/flow/internal/progress"
)

// started is when this process started: the status line counts the run's
// time from here, loading and checking included.
var started = time.Now()

// runLogger makes flow run's logger and its progress display: on a
// terminal with console logs, a status line below the log (log lines go
// through the display so they do not garble it); otherwise a progress
// event every 10 s. --quiet and --no-progress show no progress; nil then.
func runLogger(stderr io.Writer, opts logging.Options, show bool) (zerolog.Logger, *progress.Display) {
	if !show || opts.Quiet && !opts.Debug {
		return logging.New(stderr, opts), nil
	}
	if f, ok := stderr.(*os.File); ok && opts.Format == logging.Console && logging.IsTerminal(f) && os.Getenv("TERM") != "dumb" {
		d := progress.New(progress.Options{Line: f, Width: termWidth(f), Start: started})
		opts.Terminal = true
		return logging.New(d.Writer(f), opts), d
	}
	log := logging.New(stderr, opts)
	return log, progress.New(progress.Options{Log: log, Start: started})
}

// termWidth asks the terminal its width each time, so a resized window
// gets a line that fits.
func termWidth(f *os.File) func() int {
	return func() int {
		ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
		if err != nil {
			return 0
		}
		return int(ws.Col)
	}
}

// announceRun wraps the engine's progress hook to log, once the first
// command starts, which run this is and how to read its logs. Not before:
// a run that fails on its inputs or document before running anything
// says so in one line, its error.
func announceRun(next func(engine.ProgressEvent), log zerolog.Logger, logs string) func(engine.ProgressEvent) {
	announce := sync.OnceFunc(func() { log.Info().Msg("run started; its logs: " + logs) })
	return func(ev engine.ProgressEvent) {
		if ev.Kind == engine.JobStarted {
			announce()
		}
		if next != nil {
			next(ev)
		}
	}
}

// logsCommand is how to read a run's logs, with the database flag when
// the run is not in the default one.
func logsCommand(id, db string) string {
	if db != "" {
		return "flow logs --db " + db + " " + id
	}
	return "flow logs " + id
}
