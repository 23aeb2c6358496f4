package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flow-cwl/flow/provenance"
)

const cacheUsage = `usage: flow cache ls [-o text|json] [--db FILE]
       flow cache prune [--older-than 30d] [--all] [--dry-run] [--db FILE]

The step cache keeps finished jobs' outputs so that flow run can reuse
them. ls lists its entries, most recently used first; prune deletes the
entries not used for a while, with their files.
`

// cmdCache is "flow cache ls|prune".
func cmdCache(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, cacheUsage)
		return usagef("flow cache needs a command: ls or prune")
	}
	switch args[0] {
	case "ls", "list":
		return cmdCacheLs(ctx, args[1:], stdout, stderr)
	case "prune":
		return cmdCachePrune(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, cacheUsage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, cacheUsage)
	if isFlag(args[0]) {
		return usagef("flow cache needs a command before its flags: ls or prune")
	}
	return usagef("unknown cache command %q; use ls or prune", args[0])
}

// cacheLsOptions is "flow cache ls".
type cacheLsOptions struct {
	DB     string
	Output string
}

func cmdCacheLs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o cacheLsOptions
	fs := flag.NewFlagSet("flow cache ls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flow cache ls [-o text|json] [--db FILE]\n\nflags:")
		fs.PrintDefaults()
	}
	addDBFlag(fs, &o.DB)
	addOutputFlag(fs, &o.Output)
	if _, err := parseFlags(fs, args, 0, 0); err != nil {
		return err
	}
	return runCacheLs(ctx, o, stdout)
}

// runCacheLs lists the cache entries, most recently used first, and
// their total size.
func runCacheLs(ctx context.Context, o cacheLsOptions, w io.Writer) error {
	entries, err := cacheEntries(ctx, o.DB)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		if entries == nil {
			entries = []*provenance.CacheEntry{}
		}
		return printJSON(w, entries)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "the step cache is empty")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tJOB\tSIZE\tCREATED\tLAST USED")
	var total int64
	for _, e := range entries {
		total += e.Size
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", shortKey(e.Key), e.Job, formatSize(e.Size),
			formatTime(e.Created), formatTime(lastUsed(e)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s, %s\n", plural(len(entries), "entry", "entries"), formatSize(total))
	return err
}

// cacheEntries reads the cache index, most recently used first. No
// database yet means an empty cache.
func cacheEntries(ctx context.Context, dbFlag string) ([]*provenance.CacheEntry, error) {
	db, err := openDB(dbFlag, false)
	var nodb *noDatabaseError
	if errors.As(err, &nodb) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	entries, err := db.ListCache(ctx)
	sortByLastUse(entries)
	return entries, err
}

func sortByLastUse(entries []*provenance.CacheEntry) {
	slices.SortStableFunc(entries, func(a, b *provenance.CacheEntry) int {
		return lastUsed(b).Compare(lastUsed(a))
	})
}

// lastUsed is when the entry was last reused, or made if never.
func lastUsed(e *provenance.CacheEntry) time.Time {
	if e.LastUsed.IsZero() {
		return e.Created
	}
	return e.LastUsed
}

// shortKey is enough of a cache key to tell entries apart in a table:
// "sha256:0a1b2c..." becomes "0a1b2c3d4e5f".
func shortKey(key string) string {
	if i := strings.LastIndexByte(key, ':'); i >= 0 { // "run:ID:key", "sha256:hex"
		key = key[i+1:]
	}
	// "<shape>-<contents>": entries of one tool and input names differ
	// in the second half.
	if shape, contents, ok := strings.Cut(key, "-"); ok && len(shape) > 6 && len(contents) > 6 {
		return shape[:6] + "-" + contents[:6]
	}
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// cachePruneOptions is "flow cache prune".
type cachePruneOptions struct {
	DB        string
	OlderThan time.Duration // prune entries not used for this long
	All       bool
	DryRun    bool
}

func cmdCachePrune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := cachePruneOptions{OlderThan: 30 * 24 * time.Hour}
	fs := flag.NewFlagSet("flow cache prune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flow cache prune [--older-than 30d] [--all] [--dry-run] [--db FILE]\n\nflags:")
		fs.PrintDefaults()
	}
	addDBFlag(fs, &o.DB)
	fs.Func("older-than", "delete entries not used for `age`: 30d (the default), 2w, 12h", func(s string) error {
		d, err := parseAge(s)
		o.OlderThan = d
		return err
	})
	fs.BoolVar(&o.All, "all", false, "delete every entry")
	fs.BoolVar(&o.DryRun, "dry-run", false, "say what would be deleted, delete nothing")
	if _, err := parseFlags(fs, args, 0, 0); err != nil {
		return err
	}
	return runCachePrune(ctx, o, stdout, time.Now())
}

// parseAge reads an age in days (30d), weeks (2w) or anything
// time.ParseDuration takes (12h, 90m).
func parseAge(s string) (time.Duration, error) {
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	}
	if unit != 0 {
		n, err := strconv.ParseFloat(s[:len(s)-1], 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not an age such as 30d, 2w or 12h", s)
		}
		return time.Duration(n * float64(unit)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not an age such as 30d, 2w or 12h", s)
	}
	return d, nil
}

// runCachePrune deletes the entries not used since now-o.OlderThan (every
// entry with o.All), says which, and how much space that freed.
func runCachePrune(ctx context.Context, o cachePruneOptions, w io.Writer, now time.Time) error {
	db, err := openDB(o.DB, !o.DryRun)
	var nodb *noDatabaseError
	if errors.As(err, &nodb) {
		_, err = fmt.Fprintln(w, "the step cache is empty; nothing to prune")
		return err
	}
	if err != nil {
		return err
	}
	defer db.Close()
	entries, err := db.ListCache(ctx)
	if err != nil {
		return err
	}
	sortByLastUse(entries)
	cutoff := now.Add(-o.OlderThan)
	var doomed []*provenance.CacheEntry
	for _, e := range entries {
		if o.All || lastUsed(e).Before(cutoff) {
			doomed = append(doomed, e)
		}
	}
	if len(doomed) == 0 {
		_, err = fmt.Fprintf(w, "nothing to prune: none of the %s went unused for %s\n",
			plural(len(entries), "cache entry", "cache entries"), formatAge(o.OlderThan))
		return err
	}
	return pruneEntries(ctx, db, doomed, len(entries)-len(doomed), o.DryRun, w)
}

// pruneEntries deletes each entry, or with dryRun only says it would,
// and ends with a summary. It carries on past an entry it cannot delete
// and returns those errors at the end.
func pruneEntries(ctx context.Context, db provenance.Store, doomed []*provenance.CacheEntry, kept int, dryRun bool, w io.Writer) error {
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var freed int64
	var n int
	var errs []error
	for _, e := range doomed {
		if !dryRun {
			if err := removeCacheEntry(ctx, db, e); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		n++
		freed += e.Size
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tlast used %s\n", verb, shortKey(e.Key), e.Job, formatSize(e.Size), formatTime(lastUsed(e)))
	}
	tw.Flush()
	if dryRun {
		fmt.Fprintf(w, "would remove %s and free %s; %d would be kept\n", plural(n, "entry", "entries"), formatSize(freed), kept)
	} else {
		fmt.Fprintf(w, "removed %s, freed %s; %d kept\n", plural(n, "entry", "entries"), formatSize(freed), kept)
	}
	return errors.Join(errs...)
}

// removeCacheEntry deletes the index entry first, so that no run reuses a
// half-deleted directory, then the directory.
func removeCacheEntry(ctx context.Context, db provenance.Store, e *provenance.CacheEntry) error {
	dir := filepath.Clean(e.Dir)
	if e.Dir == "" || !filepath.IsAbs(dir) || dir == filepath.Dir(dir) {
		return fmt.Errorf("cache entry %s has directory %q, which flow will not delete; left it in place", shortKey(e.Key), e.Dir)
	}
	if err := db.DeleteCache(ctx, e.Key); err != nil {
		return fmt.Errorf("cannot delete cache entry %s: %w", shortKey(e.Key), err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("deleted cache entry %s but not its directory: %w", shortKey(e.Key), err)
	}
	return nil
}

// formatAge is an age as --older-than takes it: 30d, 12h0m0s.
func formatAge(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
