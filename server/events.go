package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/server/store"
)

// keepAlive is how often an idle event stream gets a comment line, so
// that proxies do not close it.
const keepAlive = 15 * time.Second

// runEvents streams a run's events as Server-Sent Events, from after
// Last-Event-ID (a reconnecting client misses nothing), and ends once the
// run has finished and every event is sent.
func (s *Server) runEvents(w http.ResponseWriter, r *http.Request, tok store.Token) {
	id := r.PathValue("id")
	if _, err := s.store.GetRun(tok.Team, id); err != nil {
		writeStoreError(w, err)
		return
	}
	s.streamEvents(w, r, tok, id)
}

// teamEvents streams every event of the team's runs, until the client
// goes.
func (s *Server) teamEvents(w http.ResponseWriter, r *http.Request, tok store.Token) {
	s.streamEvents(w, r, tok, "")
}

// streamEvents ends when its token is revoked: a stream authorized once
// must not go on showing the team's runs to whoever held the token.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, tok store.Token, runID string) {
	team := tok.Team
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming is not supported here")
		return
	}
	after := lastEventID(r)
	wake, unsubscribe := s.store.Subscribe(team)
	defer unsubscribe()
	revoked := s.store.Revocations()
	if !s.tokenLive(tok) {
		writeError(w, http.StatusUnauthorized, "the token is not valid")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		evs, err := s.store.Events(team, runID, after, 500)
		if err != nil {
			return
		}
		final := false
		for _, e := range evs {
			writeEvent(w, e)
			after = e.ID
			final = final || (runID != "" && isFinalState(e))
		}
		flusher.Flush()
		if final {
			return // the run's last word: nothing follows a finished state
		}
		if len(evs) == 500 {
			continue
		}
		if len(evs) == 0 && runID != "" && s.runFinished(team, runID) {
			// Finished before this stream's start: after one more look
			// (its last event is written just after its state), done.
			time.Sleep(100 * time.Millisecond)
			for _, e := range s.eventsAfter(team, runID, after) {
				writeEvent(w, e)
			}
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-wake:
		case <-revoked:
			revoked = s.store.Revocations()
			if !s.tokenLive(tok) {
				return
			}
		case <-ping.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		}
	}
}

// tokenLive reports whether tok may still read; a token that cannot be
// checked may not.
func (s *Server) tokenLive(tok store.Token) bool {
	live, err := s.store.TokenLive(tok.Team, tok.ID)
	return err == nil && live
}

func (s *Server) runFinished(team, id string) bool {
	run, err := s.store.GetRun(team, id)
	return err != nil || run.State.Finished()
}

func (s *Server) eventsAfter(team, id string, after uint64) []store.Event {
	evs, _ := s.store.Events(team, id, after, 0)
	return evs
}

// isFinalState reports whether e says its run finished.
func isFinalState(e store.Event) bool {
	var st api.StateEvent
	return e.Kind == store.EventState && json.Unmarshal(e.Data, &st) == nil && st.State.Finished()
}

func writeEvent(w http.ResponseWriter, e store.Event) {
	data, _ := json.Marshal(api.Event{ID: e.ID, RunID: e.RunID, Kind: e.Kind, Time: e.Time, Data: e.Data})
	fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Kind, data)
}

// lastEventID is where a stream starts: after the Last-Event-ID header
// (a reconnecting browser sends it), or ?last_event_id=.
func lastEventID(r *http.Request) uint64 {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	return n
}
