package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/internal/cwljson"
	"github.com/flow-cwl/flow/provenance"
	"github.com/flow-cwl/flow/server/store"
)

// newRun makes room for a new run of team: the team's queue must have
// room; then the run's id and its directory, made under the team's.
func (s *Server) newRun(team string) (id, dir string, err error) {
	if err := s.checkQueue(team); err != nil {
		return "", "", err
	}
	td, err := s.layout.team(team)
	if err != nil {
		return "", "", err
	}
	id = provenance.NewRunID()
	dir, err = td.newRunDir(id)
	return id, dir, err
}

// inputsFile is where a run's input object is written in its directory.
const inputsFile = "inputs.json"

// clusterTag is the tag that records which cluster a run asked for.
const clusterTag = "flow:cluster"

// errBadRequest marks submission errors that are the client's.
var errBadRequest = errors.New("bad request")

// checkQueue refuses a new run early, before its files are uploaded, when
// the team has its limit of unfinished runs: the queue is bounded, so one
// team's script gone wild cannot fill the daemon's disk with run
// directories. CreateRunLimited checks again when the run is recorded, in
// the same transaction, as submissions may race past this check.
func (s *Server) checkQueue(team string) error {
	n, err := s.store.UnfinishedCount(team)
	if err != nil {
		return err
	}
	if n >= s.runner.limits.QueuedPerTeam {
		return fmt.Errorf("%w: %d runs have not finished yet; try again later", errQueueFull, n)
	}
	return nil
}

// submit reads a multipart submission (WES's RunRequest fields and
// attachments) into a new run directory and queues the run.
func (s *Server) submit(r *http.Request, tok store.Token) (*store.Run, error) {
	id, dir, err := s.newRun(tok.Team)
	if err != nil {
		return nil, err
	}
	run, err := s.readSubmission(r, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	run.ID, run.Team, run.Owner, run.Dir, run.State = id, tok.Team, tok.ID, dir, store.StateQueued
	if err := s.confineRun(run); err != nil { // before the run exists: nothing it names is read
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.store.CreateRunLimited(run, s.runner.limits.QueuedPerTeam); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.runner.stateEvent(run.Team, run.ID, store.StateQueued, "")
	s.runner.poke()
	return run, nil
}

// readSubmission stores the parts of the request in dir and returns the
// run they describe.
func (s *Server) readSubmission(r *http.Request, dir string) (*store.Run, error) {
	mr, guard, err := multipartReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: a run is submitted as multipart/form-data: %v", errBadRequest, err)
	}
	fields := map[string]string{}
	budget := fieldBudget(maxFieldBytes)
	for {
		part, err := nextPart(mr, guard)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: cannot read the submission: %w", errBadRequest, err)
		}
		if err := s.readPart(part, dir, fields, &budget); err != nil {
			return nil, err
		}
	}
	return runFromFields(fields, dir)
}

// readPart keeps a field's value, within the request's budget, or writes
// an attachment into dir.
func (s *Server) readPart(part *multipart.Part, dir string, fields map[string]string, budget *fieldBudget) error {
	// No part.Close: it would read the rest of a part refused here; the
	// next NextPart finishes a part that was read whole.
	name := part.FormName()
	if name != api.FieldAttachment {
		v, err := budget.readField(name, part)
		fields[name] = v
		return err
	}
	// Part.FileName drops directories; WES clients send paths.
	_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	rel, err := attachmentPath(params["filename"])
	if err != nil {
		return err
	}
	dst := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		if clientPathError(err) {
			err = fmt.Errorf("%w: %w", errBadRequest, err)
		}
		return fmt.Errorf("attachment %q: %w", rel, err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if clientPathError(err) {
			err = fmt.Errorf("%w: %w", errBadRequest, err)
		}
		return fmt.Errorf("attachment %q: %w", rel, err)
	}
	dw := &diskWriter{f: f}
	if _, err := io.Copy(dw, part); err != nil {
		f.Close()
		if dw.err != nil {
			return fmt.Errorf("cannot store the attachment %q: %w", rel, err)
		}
		return fmt.Errorf("%w: attachment %q: %w", errBadRequest, rel, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot store the attachment %q: %w", rel, err)
	}
	return nil
}

// attachmentPath checks that an attachment's name stays inside the run
// directory: relative, without "..", not a reserved name.
func attachmentPath(name string) (string, error) {
	clean := path.Clean(strings.ReplaceAll(name, `\`, "/"))
	switch {
	case name == "" || clean == ".":
		return "", fmt.Errorf("%w: an attachment has no file name", errBadRequest)
	case path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../"):
		return "", fmt.Errorf("%w: the attachment path %q would leave the run directory", errBadRequest, name)
	case clean == inputsFile || clean == "outputs" || strings.HasPrefix(clean, "outputs/"):
		return "", fmt.Errorf("%w: the attachment path %q is reserved", errBadRequest, name)
	}
	return clean, nil
}

// runFromFields checks the submission's fields and writes the inputs.
func runFromFields(f map[string]string, dir string) (*store.Run, error) {
	if t := f[api.FieldType]; t != "" && !strings.EqualFold(t, "CWL") {
		return nil, fmt.Errorf("%w: workflow_type %q: flowd runs CWL", errBadRequest, t)
	}
	if v := f[api.FieldTypeVersion]; v != "" && v != "v1.0" && v != "v1.1" && v != "v1.2" {
		return nil, fmt.Errorf("%w: workflow_type_version %q: flowd runs CWL v1.0 to v1.2", errBadRequest, v)
	}
	wf, frag, _ := strings.Cut(f[api.FieldURL], "#")
	rel, err := attachmentPath(wf)
	if err != nil || strings.Contains(wf, "://") {
		return nil, fmt.Errorf("%w: workflow_url %q must name one of the attached files", errBadRequest, f[api.FieldURL])
	}
	if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
		return nil, fmt.Errorf("%w: workflow_url %q is not among the attachments", errBadRequest, wf)
	}
	run := &store.Run{Workflow: rel, Tags: map[string]string{}}
	if frag != "" {
		run.Workflow += "#" + frag
	}
	if err := decodeField(f, api.FieldParams, &run.Inputs); err != nil {
		return nil, err
	}
	cwljson.Normalize(run.Inputs)
	if err := decodeField(f, api.FieldTags, &run.Tags); err != nil {
		return nil, err
	}
	delete(run.Tags, clusterTag)  // only the engine parameters choose one
	delete(run.Tags, dataCopyTag) // only POST /api/v1/data-copies makes one
	var engine map[string]string
	if err := decodeField(f, api.FieldEngineParams, &engine); err != nil {
		return nil, err
	}
	if c := engine["cluster"]; c != "" {
		run.Tags[clusterTag] = c
	}
	data, _ := json.Marshal(run.Inputs)
	if run.Inputs == nil {
		data = []byte("{}")
	}
	return run, os.WriteFile(filepath.Join(dir, inputsFile), data, 0o600)
}

func decodeField(f map[string]string, name string, v any) error {
	if strings.TrimSpace(f[name]) == "" {
		return nil
	}
	// Numbers as json.Number, so that inputs keep their literals.
	if err := cwljson.Decode([]byte(f[name]), v); err != nil {
		return fmt.Errorf("%w: %s is not the JSON it should be: %v", errBadRequest, name, err)
	}
	return nil
}
