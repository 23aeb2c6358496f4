package server

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flow-cwl/flow/internal/confine"
	"github.com/flow-cwl/flow/schema"
	"github.com/flow-cwl/flow/server/store"
	"github.com/flow-cwl/flow/storage"
)

// One daemon runs the workflows of several teams as one Unix user, so the
// file system does not keep a run from reading what it should not: the
// daemon's key, another team's outputs, the step cache, /etc/shadow. A
// submission may name files only in the run's own directory (its
// attachments), in the outputs of the team's runs, and in the data roots
// the admin grants the team (flowd.yaml: teams.<team>.data_roots). What
// the documents and inputs name is checked here, before the run is
// queued; flow run --allow-path with the same directories checks again
// while the run reads its files, which also covers File objects that
// expressions make at run time.

// confineRun checks a new submission against the directories its team
// may read.
func (s *Server) confineRun(run *store.Run) error {
	roots, err := s.runRoots(run)
	if err != nil {
		return err
	}
	return checkLocations(run, roots)
}

// runRoots is allowedRoots with the daemon's store and configuration.
func (s *Server) runRoots(run *store.Run) ([]string, error) {
	return allowedRoots(s.store, s.cfg.DataRoots, run)
}

// allowedRoots lists the directories run may read files from: its own
// directory, the output directory of each other run of its team, and the
// team's data roots (dataRoots, by team). These are what checkLocations
// checks a submission against, and what `flow run --allow-path` should be
// given for the run (one flag each), so that flow checks again what
// expressions make at run time.
func allowedRoots(st *store.Store, dataRoots map[string][]string, run *store.Run) ([]string, error) {
	roots := []string{run.Dir}
	token := ""
	for {
		runs, next, err := st.ListRuns(run.Team, store.RunFilter{}, store.MaxPageSize, token)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			if r.ID != run.ID && r.Dir != "" {
				roots = append(roots, filepath.Join(r.Dir, "outputs"))
			}
		}
		if next == "" {
			break
		}
		token = next
	}
	return append(roots, dataRoots[run.Team]...), nil
}

// checkLocations refuses, with errBadRequest, a run whose documents or
// inputs name a file or directory outside roots: a File or Directory
// input (relative locations are relative to the run's directory, where
// its inputs.json is), their secondaryFiles and listings, the documents
// that `run:`, $import and $include load, and File and Directory objects
// the documents hold (defaults, InitialWorkDir entries). Symlinks are
// resolved first. For a run on a cluster, an absolute path that does not
// exist here (nor lies in the daemon's data directory) is the cluster's,
// and is passed on unread. The error names the input or the place in the
// document and the location as the user wrote it, never what the file
// holds or where on the server it resolved to. Errors of the documents
// that have nothing to do with confinement are left for flow to report.
func checkLocations(run *store.Run, roots []string) error {
	r, err := confine.New(roots...)
	if err != nil {
		return err
	}
	// Run directories are made in <data dir>/runs (see submit).
	c := &locChecker{roots: r, dataDir: filepath.Dir(filepath.Dir(run.Dir)), cluster: run.Tags[clusterTag] != ""}
	if c.realData, err = confine.Resolve(c.dataDir); err != nil {
		return err
	}
	if err := c.inputs(run); err != nil {
		return err
	}
	return c.documents(run)
}

// locChecker is one run's check.
type locChecker struct {
	roots    *confine.Roots
	dataDir  string // the daemon's, as configured
	realData string // and resolved
	cluster  bool   // the run goes to a cluster
}

// check is the path check: p (absolute) must lead inside the roots, or,
// for a cluster run, be the cluster's.
func (c *locChecker) check(p string) error {
	if c.roots.Contains(p) {
		return nil
	}
	if c.cluster && filepath.IsAbs(p) {
		if real, err := confine.Resolve(p); err == nil && !confine.Exists(real) && !confine.Within(real, c.realData) {
			return nil // the cluster's file: flowd never reads it
		}
	}
	return confine.ErrOutside
}

// inputs checks every File and Directory of the run's input object.
func (c *locChecker) inputs(run *store.Run) error {
	ids := make([]string, 0, len(run.Inputs))
	for id := range run.Inputs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := c.value(run.Inputs[id], run.Dir); err != nil {
			return fmt.Errorf("%w: input %q: %v", errBadRequest, id, err)
		}
	}
	return nil
}

// value walks a value of the input object for File and Directory
// objects, at any depth (records, arrays, secondaryFiles, listings).
func (c *locChecker) value(v any, base string) error {
	switch t := v.(type) {
	case []any:
		for _, it := range t {
			if err := c.value(it, base); err != nil {
				return err
			}
		}
	case map[string]any:
		if class := t["class"]; class == "File" || class == "Directory" {
			if err := c.object(t, base); err != nil {
				return err
			}
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := c.value(t[k], base); err != nil {
				return err
			}
		}
	}
	return nil
}

// object checks the location and path of one File or Directory object. A
// literal (no location, or a "_:" one) is written by flow and passes.
func (c *locChecker) object(m map[string]any, base string) error {
	for _, k := range []string{"location", "path"} {
		loc, ok := m[k].(string)
		if !ok || loc == "" || strings.HasPrefix(loc, "_:") || storage.Remote(loc) {
			continue // a literal, or an S3 or HTTPS object, fetched with the team's credentials
		}
		p, ok := confine.LocalPath(loc, base)
		if !ok || c.check(p) != nil {
			return fmt.Errorf("location %q %w", loc, confine.ErrOutside)
		}
		if m["class"] == "Directory" {
			if rel := c.leak(p); rel != "" {
				return fmt.Errorf("location %q holds the symlink %q, which %w", loc, rel, confine.ErrOutside)
			}
		}
	}
	return nil
}

// leak returns the name (relative to it) of a symlink inside the
// directory p that leads outside, or "". Only directories in the data
// directory are walked, the run's own and the team's outputs, whose
// contents users made; the data roots are the admin's, and may be large.
func (c *locChecker) leak(p string) string {
	real, err := confine.Resolve(p)
	if err != nil || !confine.Exists(real) || !confine.Within(real, c.realData) {
		return ""
	}
	found := ""
	_ = filepath.WalkDir(real, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: flow will say so
		}
		if d.Type()&fs.ModeSymlink != 0 && c.check(q) != nil {
			found, _ = filepath.Rel(real, q)
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// documents loads the run's documents with the path check: every file
// the loader would read, and every File and Directory the documents name,
// must pass it. Positions in the error are made relative to the run's
// directory, and the data directory is not named.
func (c *locChecker) documents(run *store.Run) error {
	l := schema.NewLoader()
	l.SetPathCheck(c.check)
	_, err := l.Load(filepath.Join(run.Dir, run.Workflow))
	if err == nil || !errors.Is(err, confine.ErrOutside) {
		return nil
	}
	msg := err.Error()
	for _, dir := range []string{run.Dir, c.dataDir, c.realData} {
		msg = strings.ReplaceAll(msg, "file://"+dir+"/", "")
		msg = strings.ReplaceAll(msg, dir+"/", "")
	}
	return fmt.Errorf("%w: %s", errBadRequest, msg)
}
