package server

import (
	"os"
	"path/filepath"
	"regexp"
)

// runIDPattern is what provenance.NewRunID makes; only such directories
// are run directories the sweep may remove.
var runIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-z]{6}$`)

// sweepPartial removes what a crash in the middle of a submission left:
// run directories whose run never got into the store (an upload cut
// short), which nothing would ever read or delete. It runs at start,
// before any request, so no submission is in flight.
func (s *Server) sweepPartial() error {
	ids, err := s.store.RunIDs()
	if err != nil {
		return err
	}
	runs := filepath.Join(s.cfg.DataDir, "runs")
	entries, err := os.ReadDir(runs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && runIDPattern.MatchString(e.Name()) && !ids[e.Name()] {
			s.remove(filepath.Join(runs, e.Name()), "a submission that was never recorded")
		}
	}
	return nil
}

func (s *Server) remove(dir, what string) {
	if err := os.RemoveAll(dir); err != nil {
		s.log.Warn().Err(err).Str("dir", dir).Msg("cannot remove " + what)
		return
	}
	s.log.Info().Str("dir", dir).Msg("removed " + what)
}
