package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/server/store"
)

// The data directory is divided by team, so that one team's runs cannot
// read, resume from or poison another's:
//
//	data_dir/teams/<team>/runs/<id>   what was submitted, and the outputs
//	data_dir/teams/<team>/work        the work directories of its jobs
//	data_dir/teams/<team>/flow.db     the provenance its runs record
//	data_dir/teams/<team>/cache       its step cache (with share_cache,
//	                                  data_dir/cache for every team, indexed
//	                                  in data_dir/cache.db)
//	data_dir/teams/<team>/workflows   its registered workflows
//	data_dir/agents                   the daemon's own: ssh-agent sockets
//
// every directory 0700. Code that serves a request reaches these only
// through the token's team (Server.teamRun, layout.team), never by joining
// paths of its own, so a handler cannot open another team's stores by
// forgetting a check: the team is the only way in.

// layout is where the daemon keeps what in its data directory.
type layout struct {
	dataDir    string
	shareCache bool // one step cache, data_dir/cache, for every team
}

// agents is the daemon-private directory of the runs' ssh-agent sockets:
// outside every team's directory, so that no job is given it.
func (l layout) agents() string { return filepath.Join(l.dataDir, "agents") }

// team returns the directories of a team. The name is checked again here,
// whatever the token store let in, because it becomes a path.
func (l layout) team(name string) (teamDirs, error) {
	if err := store.CheckTeam(name); err != nil {
		return teamDirs{}, fmt.Errorf("cannot place the team's files: %w", err)
	}
	d := teamDirs{team: name, root: filepath.Join(l.dataDir, "teams", name), legacy: l.dataDir}
	d.cache = filepath.Join(d.root, "cache")
	if l.shareCache {
		// A shared cache needs a shared index too: entries are found by
		// their key in it, not in the directory.
		d.cache, d.cacheIndex = filepath.Join(l.dataDir, "cache"), filepath.Join(l.dataDir, "cache.db")
	}
	return d, nil
}

// teamDirs is one team's part of the data directory.
type teamDirs struct {
	team       string
	root       string // data_dir/teams/<team>
	cache      string
	cacheIndex string // the cache's index when it is not in flow.db (share_cache)
	legacy     string // the data directory, where runs lived before teams had directories
}

func (d teamDirs) runs() string { return filepath.Join(d.root, "runs") }

// workflowDir is where a registered workflow version's files are kept.
// Name and version are checked by the caller (safeName).
func (d teamDirs) workflowDir(name, version string) string {
	return filepath.Join(d.root, "workflows", name, version)
}

// newRunDir makes the directory of a new run (and the team's, if this is
// its first).
func (d teamDirs) newRunDir(id string) (string, error) {
	if id == "" || id != filepath.Base(id) || strings.HasPrefix(id, ".") {
		return "", fmt.Errorf("run ID %q cannot name a directory", id)
	}
	if err := mkdirPrivate(d.runs()); err != nil {
		return "", err
	}
	dir := filepath.Join(d.runs(), id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

// runStores is where one run's flow process records, caches and works,
// and the directories its jobs' logs may be served from.
type runStores struct {
	db, cache, work string
	cacheIndex      string // "": in db
	logRoots        []string
	// allow are the only directories a local run may read files from
	// (flow run --allow-path), set by the runner: see allowedRoots.
	allow []string
}

// stores returns the stores of the team's run. A run submitted before
// teams had directories of their own (its Dir is data_dir/runs/<id>) keeps
// the daemon-wide ones it started with, so that it can still be continued
// and its steps read. A run of another team, or one whose directory is
// elsewhere, has none.
func (d teamDirs) stores(run *store.Run) (runStores, error) {
	if run.Team != d.team {
		return runStores{}, fmt.Errorf("run %s is not team %s's: %w", run.ID, d.team, store.ErrNotFound)
	}
	switch filepath.Dir(filepath.Clean(run.Dir)) {
	case d.runs():
		work := filepath.Join(d.root, "work")
		return runStores{db: filepath.Join(d.root, "flow.db"), cache: d.cache, cacheIndex: d.cacheIndex, work: work,
			logRoots: []string{work, d.cache}}, nil
	case filepath.Join(d.legacy, "runs"):
		work, cache := filepath.Join(d.legacy, "work"), filepath.Join(d.legacy, "cache")
		return runStores{db: filepath.Join(d.legacy, "flow.db"), cache: cache, work: work, logRoots: []string{work, cache}}, nil
	}
	return runStores{}, fmt.Errorf("run %s's directory %s is not where flowd keeps runs", run.ID, run.Dir)
}

// make creates the run's directories, readable by the daemon's user alone.
func (rs runStores) make() error {
	for _, dir := range []string{filepath.Dir(rs.db), rs.work, rs.cache} {
		if err := mkdirPrivate(dir); err != nil {
			return err
		}
	}
	return nil
}

// mkdirPrivate makes dir and its missing parents 0700.
func mkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot make %s: %w", dir, err)
	}
	return nil
}

// provenance opens the run's provenance database read-only: a request
// shares its turn at the file with other readers, waits for no writer
// longer than its turn, and never syncs. It is nil, with no error, before
// any run of the team has recorded anything.
func (rs runStores) provenance() (*provenance.Shared, error) {
	db, err := provenance.OpenShared(rs.db, provenance.Options{ReadOnly: true})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return db, err
}

// attempts reads a run's job attempts; a run that has not started yet has
// none.
func (rs runStores) attempts(ctx context.Context, runID string) ([]*provenance.Attempt, error) {
	db, err := rs.provenance()
	if db == nil || err != nil {
		return nil, err
	}
	defer db.Close()
	as, err := db.Attempts(ctx, runID)
	if errors.Is(err, provenance.ErrNotFound) {
		return nil, nil
	}
	return as, err
}

// serveLog serves a job's log file, when it lies in one of the run's log
// directories. It is opened through os.Root, so neither ".." nor a symlink
// in the recorded path leads out of that directory, whatever the record
// says.
func (rs runStores) serveLog(w http.ResponseWriter, path string) {
	for _, dir := range rs.logRoots {
		rel, err := filepath.Rel(dir, path)
		if path == "" || err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			continue
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			break
		}
		defer root.Close()
		f, err := root.Open(rel)
		if err != nil {
			break
		}
		defer f.Close()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.Copy(w, f)
		return
	}
	writeError(w, http.StatusNotFound, "no such log (its work directory was removed?)")
}

// teamRun finds the team's run and its stores: what a request about one
// run may reach. Another team's run is ErrNotFound.
func (s *Server) teamRun(team, id string) (*store.Run, runStores, error) {
	td, err := s.layout.team(team)
	if err != nil {
		return nil, runStores{}, err
	}
	run, err := s.store.GetRun(team, id)
	if err != nil {
		return nil, runStores{}, err
	}
	rs, err := td.stores(run)
	return run, rs, err
}
