package server

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/dag"
	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/internal/confine"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/schema"
	"github.com/flow-cwl/flow/server/store"
)

// What the web interface needs of the API beyond runs and events, open to
// every client: a workflow's step graph and inputs, launches with
// uploaded files (readTrigger), runs' lineage and RO-Crates, teams' usage.

func (s *Server) routeWebAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/runs/{id}/graph", s.auth(store.ActionRead, s.runGraph))
	mux.HandleFunc("GET /api/v1/runs/{id}/ro-crate", s.auth(store.ActionRead, s.runROCrate))
	mux.HandleFunc("GET /api/v1/runs/{id}/lineage/{path...}", s.auth(store.ActionRead, s.outputLineage))
	mux.HandleFunc("GET /api/v1/workflows/{name}/inputs", s.auth(store.ActionRead, s.workflowInputs))
	mux.HandleFunc("GET /api/v1/usage", s.auth(store.ActionAdmin, s.usage))
	mux.HandleFunc("POST /api/v1/runs/{id}/rerun", s.auth(store.ActionSubmit, s.rerun))
	mux.HandleFunc("GET /api/v1/runs/{id}/submitted/{path...}", s.auth(store.ActionRead, s.submittedFile))
}

// submittedFile serves a file of what was submitted with the run (its
// documents, uploaded inputs), by its path in the run's directory. os.Root
// keeps the path, symlinks included, inside that directory.
func (s *Server) submittedFile(w http.ResponseWriter, r *http.Request, tok store.Token) {
	run, _, err := s.teamRun(tok.Team, r.PathValue("id")) // its Dir is the team's
	if err != nil {
		writeStoreError(w, err)
		return
	}
	root, err := os.OpenRoot(run.Dir)
	if err != nil {
		writeError(w, http.StatusNotFound, "the run has no files")
		return
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(r.PathValue("path")))
	if err != nil {
		writeError(w, http.StatusNotFound, "no such file in the submission")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		writeError(w, http.StatusNotFound, "no such file in the submission")
		return
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// rerun queues a new run of what a run was given: its files (workflow,
// uploads; not its outputs), inputs, name and tags.
func (s *Server) rerun(w http.ResponseWriter, r *http.Request, tok store.Token) {
	old, _, err := s.teamRun(tok.Team, r.PathValue("id")) // its Dir is the team's
	if err != nil {
		writeStoreError(w, err)
		return
	}
	if err := s.checkQueue(tok.Team); err != nil {
		writeSubmitError(w, err)
		return
	}
	td, err := s.layout.team(tok.Team)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	id := provenance.NewRunID()
	dir, err := td.newRunDir(id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	run := &store.Run{ID: id, Team: tok.Team, Owner: tok.ID, Name: old.Name, Dir: dir, Workflow: old.Workflow,
		Inputs: old.Inputs, Tags: map[string]string{}, State: store.StateQueued}
	for k, v := range old.Tags {
		run.Tags[k] = v
	}
	err = copySubmission(old.Dir, dir)
	if err == nil {
		err = s.confineRun(run)
	}
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

// copySubmission copies what was submitted in a run's directory: regular
// files and directories, not its outputs nor any symlink.
func copySubmission(from, to string) error {
	src, err := os.OpenRoot(from)
	if err != nil {
		return err
	}
	defer src.Close()
	return fs.WalkDir(src.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case p == ".":
			return nil
		case p == "outputs" && d.IsDir():
			return fs.SkipDir
		case d.IsDir():
			return os.Mkdir(filepath.Join(to, p), 0o700)
		case !d.Type().IsRegular():
			return nil
		}
		in, err := src.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(filepath.Join(to, p), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
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

// readTrigger reads a launch of a registered workflow: JSON (an
// api.Trigger), or multipart/form-data with the Trigger in the field
// "trigger" first and files in "upload" parts after it. For the latter it
// returns attach, which stores the uploads in the new run's directory,
// under uploads/, once that exists.
func (s *Server) readTrigger(w http.ResponseWriter, r *http.Request, req *api.Trigger) (attach func(dir string) error, err error) {
	none := func(string) error { return nil }
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return none, readJSON(w, r, req)
	}
	mr, guard, err := multipartReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRequest, err)
	}
	part, err := nextPart(mr, guard)
	if err != nil || part.FormName() != api.FieldTrigger {
		return nil, fmt.Errorf("%w: a launch form starts with its %q field", errBadRequest, api.FieldTrigger)
	}
	budget := fieldBudget(maxFieldBytes)
	v, err := budget.readField(api.FieldTrigger, part)
	if err != nil {
		return nil, err
	}
	if err := decodeField(map[string]string{api.FieldTrigger: v}, api.FieldTrigger, req); err != nil {
		return nil, err
	}
	return func(dir string) error {
		uploads := filepath.Join(dir, "uploads")
		if err := os.Mkdir(uploads, 0o700); err != nil {
			return err
		}
		root, err := os.OpenRoot(uploads)
		if err != nil {
			return err
		}
		defer root.Close()
		for {
			part, err := nextPart(mr, guard)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: cannot read the launch form: %w", errBadRequest, err)
			}
			if err := storeUpload(root, part.FormName(), part.FileName(), part); err != nil {
				return err
			}
		}
	}, nil
}

// storeUpload writes one uploaded file into root under its plain name.
func storeUpload(root *os.Root, field, name string, body io.Reader) error {
	if field != api.FieldUpload {
		return fmt.Errorf("%w: the launch form has a field %q after its files; only %q parts may follow %q", errBadRequest, field, api.FieldUpload, api.FieldTrigger)
	}
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("%w: an upload's name must be a plain file name, not %q", errBadRequest, name)
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if clientPathError(err) {
			return fmt.Errorf("%w: upload %q: %w", errBadRequest, name, err)
		}
		return err
	}
	dw := &diskWriter{f: f}
	_, err = io.Copy(dw, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil && dw.err == nil {
		err = fmt.Errorf("%w: upload %q: %w", errBadRequest, name, err)
	}
	return err
}

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
