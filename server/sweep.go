package server

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// runIDPattern is what provenance.NewRunID makes; only such directories
// are run directories the sweep may remove.
var runIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-z]{6}$`)

// sweepPartial removes what a crash in the middle of a submission left:
// run directories whose run never got into the store (an upload cut
// short), which nothing would ever read or delete, and workflow version
// directories whose registration was never recorded, which would make
// that version "already registered" for good. It runs at start, before
// any request, so no submission is in flight.
func (s *Server) sweepPartial() error {
	ids, err := s.store.RunIDs()
	if err != nil {
		return err
	}
	// Each team's runs, and those of a daemon from before teams had
	// directories of their own.
	teams := subdirs([]string{filepath.Join(s.cfg.DataDir, "teams")})
	runDirs := []string{filepath.Join(s.cfg.DataDir, "runs")}
	for _, t := range teams {
		runDirs = append(runDirs, filepath.Join(t, "runs"))
	}
	for _, dir := range subdirs(runDirs) {
		if name := filepath.Base(dir); runIDPattern.MatchString(name) && !ids[name] {
			s.remove(dir, "a submission that was never recorded")
		}
	}
	return s.sweepWorkflows(teams)
}

// sweepWorkflows removes workflow version directories that no
// registration names: teams/<team>/workflows/<name>/<version>, and
// workflows/<team>/<name>/<version> of a daemon from before teams. Only
// what is certainly such a directory goes: one that holds or lies within
// a registered workflow's directory stays, and so does anything deeper.
func (s *Server) sweepWorkflows(teams []string) error {
	ws, err := s.store.AllWorkflows()
	if err != nil {
		return err
	}
	var registered []string
	for _, w := range ws {
		registered = append(registered, filepath.Clean(w.Dir))
	}
	versions := subdirs(subdirs(subdirs([]string{filepath.Join(s.cfg.DataDir, "workflows")})))
	for _, t := range teams {
		versions = append(versions, subdirs(subdirs([]string{filepath.Join(t, "workflows")}))...)
	}
	for _, dir := range versions {
		if !overlaps(dir, registered) {
			s.remove(dir, "a workflow registration that was never recorded")
		}
	}
	return nil
}

// subdirs lists the directories in each of dirs (not following symlinks;
// unreadable ones have none).
func subdirs(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out
}

// overlaps reports whether dir is one of dirs, or holds one, or lies in
// one.
func overlaps(dir string, dirs []string) bool {
	for _, d := range dirs {
		if d == dir || strings.HasPrefix(d, dir+string(filepath.Separator)) || strings.HasPrefix(dir, d+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func (s *Server) remove(dir, what string) {
	if err := os.RemoveAll(dir); err != nil {
		s.log.Warn().Err(err).Str("dir", dir).Msg("cannot remove " + what)
		return
	}
	s.log.Info().Str("dir", dir).Msg("removed " + what)
}
