package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/internal/clusters"
	"github.com/flow-cwl/flow/server/store"
	"github.com/flow-cwl/flow/storage"
)

// A data copy puts an S3 object or prefix (or an HTTPS file) at a path on
// one of the daemon's clusters: the SERRANO-style s3_data task. It is a
// run of its own kind, so that one mechanism queues, limits, starts,
// continues after a restart, cancels and confines it: a run record with
// no workflow (no submitted run can be one: a submission must attach its
// workflow), the source and destination as its inputs, marked with
// dataCopyTag. The runner starts it as `flow data copy` instead of `flow
// run`, with what a run on that cluster gets: the team's S3 credentials
// (s3Env), the team's key for the cluster (clusterAccess) and the
// daemon's clusters file. Its log lines (transfer progress) become its
// events, which stream as a run's do, and what it prints at the end (the
// destination and the bytes copied) becomes its outputs.

// dataCopyTag marks the runs that are data copies.
const dataCopyTag = "flow:data-copy"

func (s *Server) routeDataCopies(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/data-copies", s.auth(store.ActionSubmit, s.postDataCopy))
	mux.HandleFunc("GET /api/v1/data-copies", s.auth(store.ActionRead, s.listDataCopies))
	mux.HandleFunc("GET /api/v1/data-copies/{id}", s.auth(store.ActionRead, s.getDataCopy))
	mux.HandleFunc("DELETE /api/v1/data-copies/{id}", s.auth(store.ActionCancel, s.cancelDataCopy))
}

func (s *Server) postDataCopy(w http.ResponseWriter, r *http.Request, tok store.Token) {
	var req api.DataCopyRequest
	if err := readJSON(w, r, &req); err != nil {
		writeSubmitError(w, err)
		return
	}
	if err := s.checkDataCopy(req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	run, err := s.queueDataCopy(tok, req)
	if err != nil {
		writeSubmitError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.Submitted{ID: run.ID})
}

// checkDataCopy refuses a copy that could not run, or whose strings are
// not what they say: a source that is not a remote URL, a cluster the
// daemon does not have, a destination that is not a clean absolute path.
// The cluster account's permissions decide, on the cluster, where it may
// write; the path reaches the cluster only as an SFTP path, never a shell.
func (s *Server) checkDataCopy(req api.DataCopyRequest) error {
	u, err := url.Parse(req.Source)
	if err != nil || !storage.Remote(req.Source) || strings.ContainsFunc(req.Source, unicode.IsControl) {
		return errors.New("source: give an s3://bucket/key, s3://bucket/prefix/ or https:// URL")
	}
	if u.User != nil { // it would be kept, in clear, with the copy's record
		return errors.New("source: a URL with a user or password is refused; give the team's S3 credentials to /api/v1/s3-credentials")
	}
	if req.Cluster == "" || s.cfg.ComputeConfig == "" {
		return errors.New("cluster: a data copy goes to one of the daemon's clusters")
	}
	cfg, err := clusters.Load(s.cfg.ComputeConfig)
	if err != nil {
		return errors.New("cluster: the daemon's clusters cannot be read")
	}
	if _, err := cfg.Find(req.Cluster); err != nil {
		return fmt.Errorf("cluster: the daemon has no cluster %q", req.Cluster)
	}
	to := req.To
	if !path.IsAbs(to) || path.Clean(to) != to || to == "/" || strings.ContainsFunc(to, unicode.IsControl) {
		return fmt.Errorf("to: %q is not a clean absolute directory on the cluster (no \"..\", no trailing /)", to)
	}
	return nil
}

// queueDataCopy records the copy as a queued run of the team's.
func (s *Server) queueDataCopy(tok store.Token, req api.DataCopyRequest) (*store.Run, error) {
	id, dir, err := s.newRun(tok.Team) // its dir: for the storage.yaml s3Env writes
	if err != nil {
		return nil, err
	}
	run := &store.Run{
		ID: id, Team: tok.Team, Owner: tok.ID, Dir: dir, State: store.StateQueued,
		Name:   "copy " + storage.RedactString(req.Source),
		Inputs: map[string]any{"source": req.Source, "to": req.To},
		Tags:   map[string]string{clusterTag: req.Cluster, dataCopyTag: "true"},
	}
	if err := s.store.CreateRunLimited(run, s.runner.limits.QueuedPerTeam); err != nil {
		return nil, err
	}
	s.runner.stateEvent(run.Team, run.ID, store.StateQueued, "")
	s.runner.poke()
	return run, nil
}

// isDataCopy reports whether run is a data copy rather than a workflow's.
func isDataCopy(run *store.Run) bool {
	return run.Workflow == "" && run.Tags[dataCopyTag] == "true"
}

// copyArgs is the command line of a data copy: flow data copy, printing
// its result as JSON and its log as JSON lines, with the team's download
// cache (beside its database) and, when ra is set, the clusters file
// that logs in with the team's key.
func (lc launchConfig) copyArgs(run *store.Run, rs runStores, ra *runAgent) []string {
	src, _ := run.Inputs["source"].(string)
	to, _ := run.Inputs["to"].(string)
	a := []string{"data", "copy", "--json", "--log-format", "json", "--db", rs.db,
		"--cluster", run.Tags[clusterTag], "--to", to}
	switch {
	case ra != nil:
		a = append(a, "--compute-config", ra.config)
	case lc.ComputeConfig != "":
		a = append(a, "--compute-config", lc.ComputeConfig)
	}
	return append(a, src) // checked to be an s3:// or http(s):// URL: never a flag
}

func (s *Server) listDataCopies(w http.ResponseWriter, r *http.Request, tok store.Token) {
	out := api.DataCopyList{DataCopies: []api.DataCopy{}}
	f := store.RunFilter{Tags: map[string]string{dataCopyTag: "true"}}
	for page := ""; ; {
		runs, next, err := s.store.ListRuns(tok.Team, f, store.MaxPageSize, page)
		if err != nil {
			writeStoreError(w, err)
			return
		}
		for _, run := range runs {
			if isDataCopy(run) {
				out.DataCopies = append(out.DataCopies, s.apiDataCopy(run))
			}
		}
		if page = next; page == "" {
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// teamDataCopy is the team's data copy id; another team's, or a run that
// is not a copy, is not found.
func (s *Server) teamDataCopy(w http.ResponseWriter, team, id string) (*store.Run, bool) {
	run, err := s.store.GetRun(team, id)
	if err == nil && !isDataCopy(run) {
		err = fmt.Errorf("no data copy %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		writeStoreError(w, err)
		return nil, false
	}
	return run, true
}

func (s *Server) getDataCopy(w http.ResponseWriter, r *http.Request, tok store.Token) {
	if run, ok := s.teamDataCopy(w, tok.Team, r.PathValue("id")); ok {
		writeJSON(w, http.StatusOK, s.apiDataCopy(run))
	}
}

func (s *Server) cancelDataCopy(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, ok := s.teamDataCopy(w, tok.Team, r.PathValue("id"))
	if !ok {
		return
	}
	if err := s.runner.cancel(run.Team, run.ID); err != nil {
		writeStoreError(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// apiDataCopy is the wire form of a copy, with its progress from its last
// transfer event.
func (s *Server) apiDataCopy(run *store.Run) api.DataCopy {
	c := api.DataCopy{
		ID: run.ID, State: api.State(run.State), Cluster: run.Tags[clusterTag], Error: run.Error,
		Submitted: run.Submitted, Started: run.Started, Finished: run.Finished, BytesTotal: -1,
	}
	c.Source, _ = run.Inputs["source"].(string)
	c.Source = storage.RedactString(c.Source)
	c.To, _ = run.Inputs["to"].(string)
	c.Destination, _ = run.Outputs["destination"].(string)
	evs, _ := s.store.Events(run.Team, run.ID, 0, 0)
	for _, e := range evs {
		var p struct {
			Size *int64 `json:"size"`
			Done *int64 `json:"done"`
		}
		if e.Kind != store.EventLog || json.Unmarshal(e.Data, &p) != nil || p.Size == nil {
			continue
		}
		c.BytesTotal = *p.Size
		if p.Done != nil {
			c.BytesDone = *p.Done
		}
	}
	if n, ok := run.Outputs["bytes"].(int64); ok { // what was copied, cache hits too
		c.BytesDone, c.BytesTotal = n, n
	}
	return c
}
