package server

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/server/store"
)

func (s *Server) routeRuns(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/runs", s.auth(store.ActionSubmit, s.postRun))
	mux.HandleFunc("GET /api/v1/runs", s.auth(store.ActionRead, s.listRuns))
	mux.HandleFunc("GET /api/v1/runs/{id}", s.auth(store.ActionRead, s.getRun))
	mux.HandleFunc("POST /api/v1/runs/{id}/cancel", s.auth(store.ActionCancel, s.cancelRun))
	mux.HandleFunc("DELETE /api/v1/runs/{id}", s.auth(store.ActionCancel, s.deleteRun))
	mux.HandleFunc("GET /api/v1/runs/{id}/files", s.auth(store.ActionRead, s.listFiles))
	mux.HandleFunc("GET /api/v1/runs/{id}/files/{path...}", s.auth(store.ActionRead, s.getFile))
	mux.HandleFunc("GET /api/v1/runs/{id}/events", s.authStream(store.ActionRead, s.runEvents))
	mux.HandleFunc("GET /api/v1/events", s.authStream(store.ActionRead, s.teamEvents))
}

func (s *Server) postRun(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, err := s.submit(r, tok)
	if err != nil {
		writeSubmitError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.Submitted{ID: run.ID})
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, tok store.Token) {
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("page_size"))
	f, err := runFilter(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	runs, next, err := s.store.ListRuns(tok.Team, f, size, q.Get("page_token"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	out := api.RunList{Runs: []api.Run{}, NextPageToken: next}
	names := s.tokenNames(tok.Team)
	for _, run := range runs {
		out.Runs = append(out.Runs, apiRun(run))
		out.Runs[len(out.Runs)-1].SubmittedBy = names[run.Owner]
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, err := s.store.GetRun(tok.Team, r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	out := apiRun(run)
	out.SubmittedBy = s.tokenNames(tok.Team)[run.Owner]
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request, tok store.Token) {
	if err := s.runner.cancel(tok.Team, r.PathValue("id")); err != nil {
		writeStoreError(w, err)
		return
	}
	run, err := s.store.GetRun(tok.Team, r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, apiRun(run))
}

func (s *Server) deleteRun(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, _, err := s.teamRun(tok.Team, r.PathValue("id")) // its Dir is the team's: safe to remove
	if err == nil {
		err = s.store.DeleteRun(tok.Team, run.ID)
	}
	if err != nil {
		writeStoreError(w, err)
		return
	}
	_ = os.RemoveAll(run.Dir)
	w.WriteHeader(http.StatusNoContent)
}

// listFiles names every file of the run's outputs, relative to them.
func (s *Server) listFiles(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, _, err := s.teamRun(tok.Team, r.PathValue("id")) // its Dir is the team's
	if err != nil {
		writeStoreError(w, err)
		return
	}
	root := filepath.Join(run.Dir, "outputs")
	files := []string{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == root {
				return filepath.SkipDir
			}
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, files)
}

// getFile serves one output file. os.Root keeps the path, symlinks
// included, inside the output directory.
func (s *Server) getFile(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, _, err := s.teamRun(tok.Team, r.PathValue("id")) // its Dir is the team's
	if err != nil {
		writeStoreError(w, err)
		return
	}
	root, err := os.OpenRoot(filepath.Join(run.Dir, "outputs"))
	if err != nil {
		writeError(w, http.StatusNotFound, "the run has no outputs")
		return
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(r.PathValue("path")))
	if err != nil {
		writeError(w, http.StatusNotFound, "no such output file")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		writeError(w, http.StatusNotFound, "no such output file")
		return
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// apiRun is the wire form of a run.
func apiRun(r *store.Run) api.Run {
	tags := map[string]string{}
	for k, v := range r.Tags {
		if k != clusterTag {
			tags[k] = v
		}
	}
	return api.Run{
		ID: r.ID, Team: r.Team, Name: r.Name, State: api.State(r.State), Workflow: r.Workflow,
		Inputs: r.Inputs, Outputs: r.Outputs, Error: r.Error, Tags: tags, Cluster: r.Tags[clusterTag],
		Submitted: r.Submitted, Started: r.Started, Finished: r.Finished,
	}
}
