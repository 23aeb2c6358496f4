package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/server/store"
)

// handler is an API handler that runs for a verified token.
type handler func(w http.ResponseWriter, r *http.Request, tok store.Token)

// auth checks the request's bearer token and that its role may do action.
func (s *Server) auth(action store.Action, h handler) http.HandlerFunc {
	return s.authorize(action, h, false)
}

// authStream is auth for event streams, which may also carry the token as
// ?access_token=, since browsers' EventSource cannot set headers. Nowhere
// else: a token in a URL ends up in browser histories and proxies' logs,
// so it is only accepted where there is no other way. It never reaches
// the access log, which leaves queries out.
func (s *Server) authStream(action store.Action, h handler) http.HandlerFunc {
	return s.authorize(action, h, true)
}

func (s *Server) authorize(action store.Action, h handler, queryToken bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok && queryToken {
			secret = r.URL.Query().Get("access_token")
		}
		if secret == "" && !ok {
			if sess := s.sessions.get(r); sess != nil { // a browser signed in (session.go)
				s.authorizeSession(w, r, sess, action, h)
				return
			}
		}
		if secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="flowd"`)
			writeError(w, http.StatusUnauthorized, "a bearer token is required (Authorization: Bearer TOKEN)")
			return
		}
		tok, err := s.store.Verify(strings.TrimSpace(secret))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="flowd", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "the token is not valid")
			return
		}
		if !store.Can(tok.Role, action) {
			writeError(w, http.StatusForbidden, "a "+string(tok.Role)+" token cannot "+string(action))
			return
		}
		h(w, r, tok)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, api.Error{Message: msg, Status: status})
}

// writeStoreError answers a store error: missing (or another team's)
// things are 404, the rest a 400 or 500 as the error says.
func writeStoreError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, store.ErrRunActive), errors.Is(err, store.ErrExists):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, store.ErrBadPageToken):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}
