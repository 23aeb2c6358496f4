package server

import (
	"io"
	"net/http"

	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/server/store"
)

// A run's steps, their logs and its provenance come from the provenance
// database of the run's team (teams.go), read here for the team's own runs
// only.

func (s *Server) routeSteps(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/runs/{id}/steps", s.auth(store.ActionRead, s.listSteps))
	mux.HandleFunc("GET /api/v1/runs/{id}/logs/{job...}", s.auth(store.ActionRead, s.stepLog))
	mux.HandleFunc("GET /api/v1/runs/{id}/provenance", s.auth(store.ActionRead, s.runProvenance))
}

func (s *Server) listSteps(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, rs, err := s.teamRun(tok.Team, r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	as, err := rs.attempts(r.Context(), run.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if as == nil {
		as = []*provenance.Attempt{}
	}
	for _, a := range as {
		a.Handle, a.Env = nil, nil // the executor's business; the job's environment may hold what the team set for itself
	}
	writeJSON(w, http.StatusOK, as)
}

// stepLog serves the stderr (or, with ?stream=stdout, the stdout) of a
// job's latest attempt. Only files inside the team's work and cache
// directories are served, through os.Root, whatever the record says.
func (s *Server) stepLog(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, rs, err := s.teamRun(tok.Team, r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	as, err := rs.attempts(r.Context(), run.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	var a *provenance.Attempt
	for _, x := range as {
		if x.Job == r.PathValue("job") {
			a = x
		}
	}
	if a == nil {
		writeError(w, http.StatusNotFound, "the run has no job "+r.PathValue("job"))
		return
	}
	path := a.Stderr
	if r.URL.Query().Get("stream") == "stdout" {
		path = a.Stdout
	} else if path == "" && a.StderrTail != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, a.StderrTail)
		return
	}
	rs.serveLog(w, path)
}

// runProvenance writes the run's provenance as PROV-JSON.
func (s *Server) runProvenance(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, rs, err := s.teamRun(tok.Team, r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	db, err := rs.provenance()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if db == nil {
		writeError(w, http.StatusNotFound, "no provenance for this run yet: nothing has been recorded")
		return
	}
	defer db.Close()
	w.Header().Set("Content-Type", "application/json")
	if err := provenance.WritePROVJSON(r.Context(), db, run.ID, w); err != nil {
		writeError(w, http.StatusNotFound, "no provenance for this run yet: "+err.Error())
	}
}
