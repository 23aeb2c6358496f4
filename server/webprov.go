package server

import (
	"archive/zip"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/internal/confine"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/server/store"
)

// A run's provenance as downloads (RO-Crate) and as a lineage graph, and
// what a team's runs use.

// runROCrate writes the run's Workflow Run RO-Crate as a zip file.
func (s *Server) runROCrate(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, rs, err := s.teamRun(tok.Team, r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	db, err := rs.provenance()
	if err != nil || db == nil {
		writeError(w, http.StatusNotFound, "no provenance for this run yet: nothing has been recorded")
		return
	}
	defer db.Close()
	tmp, err := os.MkdirTemp("", "flowd-crate-")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer os.RemoveAll(tmp)
	crate := filepath.Join(tmp, "crate")
	if err := provenance.WriteROCrate(r.Context(), db, run.ID, crate); err != nil {
		writeError(w, http.StatusNotFound, "no RO-Crate for this run: "+oneLine(err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": run.ID + "-ro-crate.zip"}))
	zw := zip.NewWriter(w)
	if err := zw.AddFS(os.DirFS(crate)); err != nil {
		s.log.Warn().Err(err).Str("run", run.ID).Msg("RO-Crate download cut short")
		return
	}
	zw.Close()
}

// Lineage is one file of a lineage graph (GET
// /api/v1/runs/{id}/lineage/PATH, PATH an output file of the run): the
// run and step that made it and the files that step used, back to the
// workflow's inputs. Paths are the file's base name: where the daemon
// keeps files is not the team's business.
type Lineage struct {
	Name     string     `json:"name"`
	SHA1     string     `json:"sha1"`
	Size     int64      `json:"size"`
	Run      string     `json:"run,omitempty"`
	Job      string     `json:"job,omitempty"`  // "" for a workflow input
	Tool     string     `json:"tool,omitempty"` // the tool's file name and fragment
	Repeated bool       `json:"repeated,omitempty"`
	Inputs   []*Lineage `json:"inputs,omitempty"`
}

func (s *Server) outputLineage(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, rs, err := s.teamRun(tok.Team, r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	outputs := filepath.Join(run.Dir, "outputs")
	p := filepath.Join(outputs, filepath.FromSlash(r.PathValue("path")))
	if !confine.Within(p, outputs) || p == outputs {
		writeError(w, http.StatusNotFound, "no such output file")
		return
	}
	db, err := rs.provenance()
	if err != nil || db == nil {
		writeError(w, http.StatusNotFound, "no provenance for this run yet: nothing has been recorded")
		return
	}
	defer db.Close()
	n, err := provenance.Lineage(r.Context(), db, p, provenance.LineageOptions{})
	if err != nil {
		msg := strings.ReplaceAll(oneLine(err.Error()), outputs+"/", "")
		writeError(w, http.StatusNotFound, strings.ReplaceAll(msg, run.Dir, "the run"))
		return
	}
	writeJSON(w, http.StatusOK, lineageOf(n))
}

func lineageOf(n *provenance.LineageNode) *Lineage {
	l := &Lineage{Name: filepath.Base(n.File.Path), SHA1: n.File.SHA1, Size: n.File.Size, Repeated: n.Repeated}
	if n.Run != nil {
		l.Run = n.Run.ID
	}
	if n.Attempt != nil {
		l.Job, l.Run = n.Attempt.Job, n.Attempt.RunID
		if u, err := url.Parse(n.Attempt.Tool); err == nil {
			l.Tool = filepath.Base(u.Path)
			if u.Fragment != "" {
				l.Tool += "#" + u.Fragment
			}
		}
	}
	for _, in := range n.Inputs {
		l.Inputs = append(l.Inputs, lineageOf(in))
	}
	return l
}

// usage counts the team's runs by state and workflow, the bytes its
// runs' directories hold, and the job attempts and CPU time its runs
// recorded.
func (s *Server) usage(w http.ResponseWriter, r *http.Request, tok store.Token) {
	u := api.TeamUsage{Team: tok.Team, Runs: map[api.State]int{}, Workflow: map[string]int{}}
	td, err := s.layout.team(tok.Team)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	var db *provenance.Shared
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	page := ""
	for r.Context().Err() == nil {
		runs, next, err := s.store.ListRuns(tok.Team, store.RunFilter{}, store.MaxPageSize, page)
		if err != nil {
			writeStoreError(w, err)
			return
		}
		for _, run := range runs {
			u.Runs[api.State(run.State)]++
			if run.Name != "" {
				u.Workflow[strings.SplitN(run.Name, "@", 2)[0]]++
			}
			u.Bytes += dirBytes(run.Dir)
			if db == nil {
				if rs, err := td.stores(run); err == nil {
					db, _ = rs.provenance()
				}
			}
			if db != nil {
				as, _ := db.Attempts(r.Context(), run.ID)
				for _, a := range as {
					u.CPU += a.CPU
					u.Jobs++
				}
			}
		}
		if next == "" {
			break
		}
		page = next
	}
	writeJSON(w, http.StatusOK, u)
}

func dirBytes(dir string) int64 {
	var n int64
	if dir == "" {
		return 0
	}
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
