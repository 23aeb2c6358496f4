package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/dag"
	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/internal/confine"
	"github.com/flow-cwl/flow/schema"
	"github.com/flow-cwl/flow/server/store"
)

// What the web interface needs of the API beyond runs and events, open to
// every client: a workflow's step graph and inputs, launches with
// uploaded files and re-runs (launch.go), runs' lineage, RO-Crates and
// teams' usage (webprov.go).

func (s *Server) routeWebAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/events/latest", s.auth(store.ActionRead, s.latestEvent))
	mux.HandleFunc("GET /api/v1/runs/{id}/graph", s.auth(store.ActionRead, s.runGraph))
	mux.HandleFunc("GET /api/v1/runs/{id}/ro-crate", s.auth(store.ActionRead, s.runROCrate))
	mux.HandleFunc("GET /api/v1/runs/{id}/lineage/{path...}", s.auth(store.ActionRead, s.outputLineage))
	mux.HandleFunc("GET /api/v1/workflows/{name}/inputs", s.auth(store.ActionRead, s.workflowInputs))
	mux.HandleFunc("GET /api/v1/usage", s.auth(store.ActionAdmin, s.usage))
	mux.HandleFunc("POST /api/v1/runs/{id}/rerun", s.auth(store.ActionSubmit, s.rerun))
	mux.HandleFunc("GET /api/v1/runs/{id}/submitted/{path...}", s.auth(store.ActionRead, s.submittedFile))
}

// latestEvent answers the ID of the team's latest event, so that a client
// can follow /api/v1/events?last_event_id=ID from now on instead of
// receiving the team's whole history first.
func (s *Server) latestEvent(w http.ResponseWriter, r *http.Request, tok store.Token) {
	id, err := s.store.LastEventID(tok.Team)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.EventCursor{LastEventID: id})
}

// runFilter reads GET /api/v1/runs's filters: state, workflow, q (text),
// since and until (RFC 3339 times or dates, submission times).
func runFilter(q url.Values) (store.RunFilter, error) {
	f := store.RunFilter{State: store.RunState(q.Get("state")), Workflow: q.Get("workflow"), Text: strings.TrimSpace(q.Get("q"))}
	if f.State != "" && !f.State.Valid() {
		return f, fmt.Errorf("state %q: the states are QUEUED, INITIALIZING, RUNNING, COMPLETE, EXECUTOR_ERROR, SYSTEM_ERROR, CANCELED and CANCELING", f.State)
	}
	for _, b := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := q.Get(b.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return f, fmt.Errorf("%s %q: give a date (2026-12-06) or a time (2026-12-06T08:00:00Z)", b.name, v)
			}
		}
		*b.t = t
	}
	return f, nil
}

// tokenNames maps the team's token ids to their names, for "submitted
// by"; a team has a handful of tokens.
func (s *Server) tokenNames(team string) map[string]string {
	ts, _ := s.store.Tokens(team)
	names := make(map[string]string, len(ts))
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	return names
}

// loadConfined loads the CWL document ref (relative to dir, with an
// optional #fragment), reading no file outside dir.
func loadConfined(dir, ref string) (*schema.Process, error) {
	real, err := confine.Resolve(dir)
	if err != nil {
		return nil, err
	}
	l := schema.NewLoader()
	l.SetPathCheck(func(p string) error {
		if r, err := confine.Resolve(p); err != nil || !confine.Within(r, real) {
			return confine.ErrOutside
		}
		return nil
	})
	p, err := l.Load(filepath.Join(dir, ref))
	if err != nil {
		// Positions in the error name the daemon's directories: not the team's business.
		return nil, errors.New(strings.ReplaceAll(strings.ReplaceAll(err.Error(), "file://"+dir+"/", ""), dir+"/", ""))
	}
	return p, nil
}

// runGraph answers the step graph of the run's workflow, the one `flow
// graph` draws. A lone tool is one step.
func (s *Server) runGraph(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, _, err := s.teamRun(tok.Team, r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	p, err := loadConfined(run.Dir, run.Workflow)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "cannot read the run's workflow: "+oneLine(err.Error()))
		return
	}
	g, err := processGraph(p)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, oneLine(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, g)
}

func processGraph(p *schema.Process) (api.Graph, error) {
	var d dag.Drawing
	if p.Class != "Workflow" {
		d = dag.Drawing{Nodes: []dag.DrawnNode{{Kind: "step", ID: "main"}}}
	} else {
		g, err := engine.Graph(p)
		if err != nil {
			return api.Graph{}, err
		}
		d = g.Drawing()
	}
	out := api.Graph{Nodes: []api.GraphNode{}, Edges: []api.GraphEdge{}}
	for _, n := range d.Nodes {
		out.Nodes = append(out.Nodes, api.GraphNode(n))
	}
	for _, e := range d.Edges {
		out.Edges = append(out.Edges, api.GraphEdge{From: api.GraphNode(e.From), To: api.GraphNode(e.To), Labels: e.Labels})
	}
	return out, nil
}

// workflowInputs describes a registered workflow's inputs, for a form.
func (s *Server) workflowInputs(w http.ResponseWriter, r *http.Request, tok store.Token) {
	wf, err := s.store.GetWorkflow(tok.Team, r.PathValue("name"), r.URL.Query().Get("version"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	p, err := loadConfined(wf.Dir, wf.Main)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "cannot read the workflow: "+oneLine(err.Error()))
		return
	}
	out := api.Inputs{Workflow: api.Workflow{Name: wf.Name, Version: wf.Version, Main: wf.Main, Created: wf.Created},
		Label: p.Label, Doc: p.Doc, Inputs: inputFields(p.Inputs, 0)}
	writeJSON(w, http.StatusOK, out)
}

// maxTypeDepth bounds how deep a form follows nested types: named types
// may be recursive.
const maxTypeDepth = 6

func inputFields(ps []*schema.Parameter, depth int) []api.InputField {
	out := []api.InputField{}
	for _, p := range ps {
		out = append(out, api.InputField{ID: shortID(p.ID), Label: p.Label, Doc: p.Doc, Type: fieldType(p.Type, depth),
			Default: p.Default, HasDefault: p.HasDefault})
	}
	return out
}

// shortID is an id's last segment: what an input object's key is.
func shortID(id string) string {
	if i := strings.LastIndexAny(id, "#/"); i >= 0 {
		return id[i+1:]
	}
	return id
}

func fieldType(t *schema.Type, depth int) *api.InputType {
	if t == nil {
		return &api.InputType{Kind: "Any"}
	}
	if depth > maxTypeDepth {
		return &api.InputType{Kind: "Any"}
	}
	ft := &api.InputType{Kind: string(t.Kind), Symbols: t.Symbols}
	switch t.Kind {
	case schema.TArray:
		ft.Items = fieldType(t.Items, depth+1)
	case schema.TRecord:
		ft.Fields = inputFields(t.Fields, depth+1)
	case schema.TUnion:
		for _, u := range t.Union {
			ft.Union = append(ft.Union, fieldType(u, depth+1))
		}
	}
	return ft
}
