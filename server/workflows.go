package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/server/store"
)

// The workflow registry: a team registers a named version of a workflow
// once (its files, as a submission carries them), and members trigger runs
// of it by name with only their inputs.

func (s *Server) routeWorkflows(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/workflows", s.auth(store.ActionSubmit, s.registerWorkflow))
	mux.HandleFunc("GET /api/v1/workflows", s.auth(store.ActionRead, s.listWorkflows))
	mux.HandleFunc("POST /api/v1/workflows/{name}/runs", s.auth(store.ActionSubmit, s.triggerWorkflow))
}

// safeName is what a workflow's name and version may be: they become
// directory names.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// registerWorkflow takes a submission's form (workflow_url and
// attachments) with the fields name and version.
func (s *Server) registerWorkflow(w http.ResponseWriter, r *http.Request, tok store.Token) {
	name, version := r.URL.Query().Get("name"), r.URL.Query().Get("version")
	if !safeName.MatchString(name) || !safeName.MatchString(version) {
		writeError(w, http.StatusBadRequest, "name and version (query parameters) must be 1 to 64 letters, digits, '.', '_' or '-'")
		return
	}
	td, err := s.layout.team(tok.Team)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	dir := td.workflowDir(name, version)
	if _, err := os.Stat(dir); err == nil {
		writeError(w, http.StatusConflict, fmt.Sprintf("workflow %s version %s is already registered", name, version))
		return
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	run, err := s.readSubmission(r, dir)
	if err == nil {
		err = s.store.PutWorkflow(&store.Workflow{Team: tok.Team, Name: name, Version: version, Dir: dir, Main: run.Workflow})
	}
	if err != nil {
		os.RemoveAll(dir)
		writeSubmitError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.Workflow{Name: name, Version: version, Main: run.Workflow})
}

func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request, tok store.Token) {
	ws, err := s.store.Workflows(tok.Team)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	out := []api.Workflow{}
	for _, wf := range ws {
		out = append(out, api.Workflow{Name: wf.Name, Version: wf.Version, Main: wf.Main, Created: wf.Created})
	}
	writeJSON(w, http.StatusOK, out)
}

// triggerWorkflow starts a run of a registered workflow: its files are
// copied into a new run directory, the inputs come in the request.
func (s *Server) triggerWorkflow(w http.ResponseWriter, r *http.Request, tok store.Token) {
	var req api.Trigger
	attach, err := s.readTrigger(w, r, &req) // JSON, or a form with uploads (webapi.go)
	if err != nil {
		writeSubmitError(w, err)
		return
	}
	wf, err := s.store.GetWorkflow(tok.Team, r.PathValue("name"), req.Version)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	id, dir, err := s.newRun(tok.Team)
	if err != nil {
		writeSubmitError(w, err)
		return
	}
	err = os.CopyFS(dir, os.DirFS(wf.Dir))
	if err == nil {
		err = attach(dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		writeSubmitError(w, err)
		return
	}
	run := &store.Run{ID: id, Team: tok.Team, Owner: tok.ID, Name: wf.Name + "@" + wf.Version, Dir: dir,
		Workflow: wf.Main, Inputs: req.Inputs, Tags: req.Tags, State: store.StateQueued}
	if run.Tags == nil {
		run.Tags = map[string]string{}
	}
	if req.Cluster != "" {
		run.Tags[clusterTag] = req.Cluster
	}
	if err := s.confineRun(run); err != nil {
		os.RemoveAll(dir)
		writeSubmitError(w, err)
		return
	}
	data, _ := json.Marshal(req.Inputs)
	if req.Inputs == nil {
		data = []byte("{}")
	}
	err = os.WriteFile(filepath.Join(dir, inputsFile), data, 0o600)
	if err == nil {
		err = s.store.CreateRunLimited(run, s.runner.limits.QueuedPerTeam)
	}
	if err != nil {
		os.RemoveAll(dir)
		writeSubmitError(w, err)
		return
	}
	s.runner.stateEvent(run.Team, run.ID, store.StateQueued, "")
	s.runner.poke()
	writeJSON(w, http.StatusCreated, api.Submitted{ID: run.ID})
}
