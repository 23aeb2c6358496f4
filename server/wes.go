package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/server/store"
	"github.com/flow-cwl/flow/server/wesapi"
)

// GA4GH WES 1.1 under /ga4gh/wes/v1: the same runs as the native API, in
// WES's shapes, so WES clients work unchanged. WES defines only some
// statuses per route (no 404 on /runs, no 400 on /runs/{id}); answers keep
// to them.

func (s *Server) routeWES(mux *http.ServeMux) {
	const base = wesapi.BasePath
	mux.HandleFunc("GET "+base+"/service-info", s.auth(store.ActionRead, s.wesServiceInfo))
	mux.HandleFunc("GET "+base+"/runs", s.auth(store.ActionRead, s.wesListRuns))
	mux.HandleFunc("POST "+base+"/runs", s.auth(store.ActionSubmit, s.wesSubmit))
	mux.HandleFunc("GET "+base+"/runs/{id}", s.auth(store.ActionRead, s.wesGetRun))
	mux.HandleFunc("GET "+base+"/runs/{id}/status", s.auth(store.ActionRead, s.wesStatus))
	mux.HandleFunc("POST "+base+"/runs/{id}/cancel", s.auth(store.ActionCancel, s.wesCancel))
	mux.HandleFunc("GET "+base+"/runs/{id}/tasks", s.auth(store.ActionRead, s.wesTasks))
	mux.HandleFunc("GET "+base+"/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(wesapi.Document())
	})
}

func wesError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, wesapi.NewError(status, msg))
}

func (s *Server) wesServiceInfo(w http.ResponseWriter, r *http.Request, tok store.Token) {
	counts := map[wesapi.State]int64{}
	if runs, err := s.store.Unfinished(); err == nil {
		for _, run := range runs {
			if run.Team == tok.Team {
				counts[wesapi.State(run.State)]++
			}
		}
	}
	writeJSON(w, http.StatusOK, wesapi.ServiceInfo{
		ID: "org.flow-cwl.flowd", Name: "flowd", Version: "1.0.0",
		Type:         wesapi.ServiceType{Group: "org.ga4gh", Artifact: "wes", Version: wesapi.SpecVersion},
		Description:  "flow's team daemon: CWL v1.2 workflows on this machine or the team's Slurm clusters",
		Organization: wesapi.Organization{Name: "flow", URL: "https://github.com/flow-cwl/flow"},
		WorkflowTypeVersions: map[string]wesapi.WorkflowTypeVersion{
			"CWL": {WorkflowTypeVersion: []string{"v1.0", "v1.1", "v1.2"}},
		},
		SupportedWESVersions:         []string{wesapi.SpecVersion},
		SupportedFilesystemProtocols: []string{"file"},
		WorkflowEngineVersions:       map[string]wesapi.WorkflowEngineVersion{"flow": {WorkflowEngineVersion: []string{"devel"}}},
		DefaultWorkflowEngineParameters: []wesapi.DefaultWorkflowEngineParameter{
			{Name: "cluster", Type: "string", DefaultValue: ""},
		},
		SystemStateCounts:   counts,
		AuthInstructionsURL: "https://github.com/flow-cwl/flow#flowd",
	})
}

func (s *Server) wesListRuns(w http.ResponseWriter, r *http.Request, tok store.Token) {
	size, _ := strconv.Atoi(r.URL.Query().Get("page_size"))
	runs, next, err := s.store.ListRuns(tok.Team, store.RunFilter{}, size, r.URL.Query().Get("page_token"))
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, store.ErrBadPageToken) {
			status = http.StatusBadRequest
		}
		wesError(w, status, err.Error())
		return
	}
	out := wesapi.RunListResponse{NextPageToken: next}
	for _, run := range runs {
		out.Runs = append(out.Runs, wesapi.RunSummary{
			RunID: run.ID, State: wesapi.State(run.State), Tags: apiRun(run).Tags,
			StartTime: timestamp(run.Started), EndTime: timestamp(run.Finished),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) wesSubmit(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, err := s.submit(r, tok)
	if err != nil {
		// The same statuses as flow's API: WES 1.1 lists none for a body
		// too large, a full queue or a full disk, and 400 or 500 would
		// tell a client to fix its request, or that the daemon is broken.
		status, msg := submitStatus(err)
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", retryAfter)
		}
		wesError(w, status, msg)
		return
	}
	writeJSON(w, http.StatusOK, wesapi.RunId{RunID: run.ID})
}

// wesRun finds the team's run, or answers 404 (also for another team's).
func (s *Server) wesRun(w http.ResponseWriter, r *http.Request, tok store.Token) (*store.Run, bool) {
	run, err := s.store.GetRun(tok.Team, r.PathValue("id"))
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, store.ErrNotFound) {
			status = http.StatusNotFound
		}
		wesError(w, status, "run "+r.PathValue("id")+" not found")
		return nil, false
	}
	return run, true
}

func (s *Server) wesGetRun(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, ok := s.wesRun(w, r, tok)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, wesapi.RunLog{
		RunID: run.ID, State: wesapi.State(run.State),
		Request: &wesapi.RunRequest{WorkflowParams: run.Inputs, WorkflowType: "CWL", WorkflowTypeVersion: "v1.2",
			WorkflowURL: run.Workflow, Tags: apiRun(run).Tags},
		RunLog: &wesapi.Log{Name: run.Workflow, StartTime: timestamp(run.Started), EndTime: timestamp(run.Finished),
			SystemLogs: nonEmpty(run.Error)},
		TaskLogsURL: wesapi.BasePath + "/runs/" + run.ID + "/tasks",
		Outputs:     run.Outputs,
	})
}

func (s *Server) wesStatus(w http.ResponseWriter, r *http.Request, tok store.Token) {
	if run, ok := s.wesRun(w, r, tok); ok {
		writeJSON(w, http.StatusOK, wesapi.RunStatus{RunID: run.ID, State: wesapi.State(run.State)})
	}
}

func (s *Server) wesCancel(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, ok := s.wesRun(w, r, tok)
	if !ok {
		return
	}
	if err := s.runner.cancel(tok.Team, run.ID); err != nil {
		wesError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, wesapi.RunId{RunID: run.ID})
}

// wesTasks lists the run's jobs from the provenance database.
func (s *Server) wesTasks(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, ok := s.wesRun(w, r, tok)
	if !ok {
		return
	}
	_, rs, err := s.teamRun(tok.Team, run.ID)
	var attempts []*provenance.Attempt
	if err == nil {
		attempts, err = rs.attempts(r.Context(), run.ID)
	}
	if err != nil {
		wesError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := wesapi.TaskListResponse{}
	for _, a := range attempts {
		code := int32(a.ExitCode)
		out.TaskLogs = append(out.TaskLogs, wesapi.TaskLog{
			ID: a.Job + "#" + strconv.Itoa(a.Attempt), Name: a.Job, Cmd: a.CommandLine,
			StartTime: timestamp(a.Started), EndTime: timestamp(a.Finished), ExitCode: &code,
			SystemLogs: nonEmpty(a.Error),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// timestamp is a WES time, "" for none.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return wesapi.Timestamp(t)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
