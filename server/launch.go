package server

import (
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/server/store"
)

// Launches and re-runs: a registered workflow launched with uploaded
// files (the web interface's form), a run started again with what it was
// given, and the files a run was submitted with.

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
	id, dir, err := s.newRun(tok.Team)
	if err != nil {
		writeSubmitError(w, err)
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
