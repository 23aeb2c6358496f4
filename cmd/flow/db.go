package main

// What the commands that read flow's database (runs, show, logs, prov,
// lineage, cache) share: the --db and -o flags, opening the database
// without creating it, finding a run by an id prefix, and formatting
// times, durations and sizes for people.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flow-cwl/flow/provenance"
)

// lockTimeout is how long a command waits for a database that another
// flow process holds before saying so.
const lockTimeout = 2 * time.Second

// addDBFlag defines --db; "" stands for provenance.DefaultPath, resolved
// only when the database is opened so that -h works without a home.
func addDBFlag(fs *flag.FlagSet, path *string) {
	fs.StringVar(path, "db", "", "the provenance database `file` (default: $XDG_DATA_HOME/flow/flow.db)")
}

// addOutputFlag defines -o text|json for the listings.
func addOutputFlag(fs *flag.FlagSet, format *string) {
	*format = "text"
	fs.Func("o", "print `text` (a table) or json", func(s string) error {
		if s != "text" && s != "json" {
			return fmt.Errorf("unknown output format %q; use text or json", s)
		}
		*format = s
		return nil
	})
}

// parseFlags parses fs's flags wherever they are among args and returns
// the positional arguments, between min and max of them.
func parseFlags(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	flowArgs, positional, extra := splitArgs(fs, args)
	if err := fs.Parse(flowArgs); err != nil {
		return nil, parseError(err)
	}
	if len(extra) > 0 {
		fs.Usage()
		return nil, usagef("%s: unknown flag or extra argument %q", fs.Name(), extra[0])
	}
	if len(positional) < min || len(positional) > max {
		fs.Usage()
		return nil, usagef("%s takes %s, found %d", fs.Name(), argCount(min, max), len(positional))
	}
	return positional, nil
}

func argCount(min, max int) string {
	switch {
	case min == max && max == 0:
		return "no arguments"
	case min == max && max == 1:
		return "one argument"
	case min == max:
		return fmt.Sprintf("%d arguments", max)
	}
	return fmt.Sprintf("%d to %d arguments", min, max)
}

// noDatabaseError: the database file does not exist yet, because flow run
// has never recorded anything there. Listings treat it as empty.
type noDatabaseError struct{ path string }

func (e *noDatabaseError) Error() string {
	return fmt.Sprintf("no runs recorded yet (database: %s)", e.path)
}

// dbPath is the --db value, or the default database.
func dbPath(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	p, err := provenance.DefaultPath()
	if err != nil {
		return "", fmt.Errorf("cannot find the provenance database (use --db): %w", err)
	}
	return p, nil
}

// openDB opens the database at path (or the default) for reading, or for
// writing when write is set. It never creates one: a command that only
// looks should not leave a database behind.
func openDB(path string, write bool) (*provenance.DB, error) {
	path, err := dbPath(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, &noDatabaseError{path: path}
	}
	// Open's errors say what went wrong with which file, including that
	// another flow process holds it (provenance.ErrLocked).
	return provenance.Open(path, provenance.Options{Timeout: lockTimeout, ReadOnly: !write})
}

// findRun is GetRun, saying which prefix matched no run. An ambiguous
// prefix's error already lists the runs it matches.
// withRun opens the database read-only, finds the run ref names (an id or
// a unique prefix of one) and hands both to fn.
func withRun(ctx context.Context, dbFile, ref string, fn func(db *provenance.DB, r *provenance.Run) error) error {
	db, err := openDB(dbFile, false)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := findRun(ctx, db, ref)
	if err != nil {
		return err
	}
	return fn(db, r)
}

func findRun(ctx context.Context, db provenance.Store, prefix string) (*provenance.Run, error) {
	r, err := db.GetRun(ctx, prefix)
	switch {
	case errors.Is(err, provenance.ErrNotFound):
		return nil, fmt.Errorf("no run matches %q", prefix)
	case err != nil:
		return nil, err
	}
	return r, nil
}

// formatTime is t in local time, to the minute, or "-" when unset.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// elapsed is how long something that started at start took, or "-" when
// it has not finished.
func elapsed(start, end time.Time) string {
	if start.IsZero() || end.IsZero() {
		return "-"
	}
	return formatDuration(end.Sub(start))
}

// formatDuration rounds d to what a person reads at a glance: 340ms,
// 1.2s, 42s, 3m4s, 2h5m.
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		d = d.Round(100 * time.Millisecond)
	case d < time.Hour:
		d = d.Round(time.Second)
	}
	if d < time.Hour {
		return d.String()
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
}

// formatSize is n bytes in binary units: 512 B, 1.5 KiB, 12 KiB, 3.4 GiB.
func formatSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	unit := 0
	for v >= 1024 && unit < 6 {
		v /= 1024
		unit++
	}
	units := "BKMGTPE"
	s := strconv.FormatFloat(v, 'f', 0, 64)
	if v < 10 {
		s = strconv.FormatFloat(v, 'f', 1, 64)
		s = strings.TrimSuffix(s, ".0")
	}
	return s + " " + units[unit:unit+1] + "iB"
}
