package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/flow-cwl/flow/server/store"
)

// Browser sessions. The web interface signs in by sending a token once
// (POST /api/v1/session); the daemon answers with a session cookie and
// keeps the session in memory, so the browser never stores the token, in
// local storage or anywhere a script could read it. A session is its
// token's: each request checks that the token is still live, so revoking
// the token ends every session made with it, and the event streams they
// hold (streamEvents watches revocations). Signing out ends the session
// and its streams too (each request's context ends with its session).
//
// The cookie is HttpOnly, SameSite=Strict and, under TLS, Secure. Writes
// made with it must also carry the session's CSRF token in the
// X-CSRF-Token header, which only a page of the daemon's own origin can
// read (from GET /api/v1/session).

const (
	sessionCookie = "flowd_session"
	csrfHeader    = "X-CSRF-Token"
	// sessionLife is how long a session lasts after sign-in, whatever
	// its use: a browser left signed in on a shared machine signs out by
	// itself at the end of a working day.
	sessionLife = 12 * time.Hour
)

// session is one signed-in browser.
type session struct {
	tok     store.Token
	csrf    string
	expires time.Time
	ctx     context.Context // ends when the session does
	end     context.CancelFunc
}

// sessions are the daemon's browser sessions, by the SHA-256 of their
// cookie's value (a memory dump shows no usable cookie).
type sessions struct {
	mu sync.Mutex
	m  map[[32]byte]*session
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// start makes a session for tok and returns its cookie value.
func (ss *sessions) start(tok store.Token) (string, *session) {
	id := randomString()
	ctx, end := context.WithCancel(context.Background())
	sess := &session{tok: tok, csrf: randomString(), expires: time.Now().Add(sessionLife), ctx: ctx, end: end}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = map[[32]byte]*session{}
	}
	now := time.Now()
	for k, old := range ss.m { // sign-ins are rare: sweeping here keeps the map small
		if now.After(old.expires) {
			old.end()
			delete(ss.m, k)
		}
	}
	ss.m[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// get returns the live session of the request's cookie, or nil.
func (ss *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	k := sha256.Sum256([]byte(c.Value))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sess := ss.m[k]
	if sess != nil && time.Now().After(sess.expires) {
		sess.end()
		delete(ss.m, k)
		return nil
	}
	return sess
}

// stop ends the request's session, if it has one.
func (ss *sessions) stop(r *http.Request) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return
	}
	k := sha256.Sum256([]byte(c.Value))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if sess := ss.m[k]; sess != nil {
		sess.end()
		delete(ss.m, k)
	}
}

// authorizeSession serves a request that came with a session cookie and
// no bearer token: the session's token must still be live and may do
// action, and a write must carry the session's CSRF token.
func (s *Server) authorizeSession(w http.ResponseWriter, r *http.Request, sess *session, action store.Action, h handler) {
	if !s.tokenLive(sess.tok) {
		s.sessions.stop(r)
		writeError(w, http.StatusUnauthorized, "the session has ended: its token was revoked")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead &&
		subtle.ConstantTimeCompare([]byte(r.Header.Get(csrfHeader)), []byte(sess.csrf)) != 1 {
		writeError(w, http.StatusForbidden, "a write with a session cookie needs the session's "+csrfHeader+" header")
		return
	}
	if !store.Can(sess.tok.Role, action) {
		writeError(w, http.StatusForbidden, "a "+string(sess.tok.Role)+" token cannot "+string(action))
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(sess.ctx, cancel) // sign-out ends the session's streams
	defer stop()
	h(w, r.WithContext(ctx), sess.tok)
}

// SessionInfo is what GET and POST /api/v1/session answer: who is signed
// in, and the CSRF token the page sends with its writes.
type SessionInfo struct {
	Team      string `json:"team"`
	Role      string `json:"role"`
	TokenName string `json:"token_name"`
	TokenID   string `json:"token_id"`
	CSRF      string `json:"csrf_token"`
}

func (s *Server) routeSession(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/session", s.signIn)
	mux.HandleFunc("GET /api/v1/session", s.sessionInfo)
	mux.HandleFunc("DELETE /api/v1/session", s.signOut)
}

// signIn takes {"token": "..."} and starts a session. The body must be
// sent as application/json: another site's page can only send that after
// a CORS preflight, which flowd does not answer, so it cannot sign a
// visitor's browser in with a token of its own choosing.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "sign in with a JSON body (Content-Type: application/json)")
		return
	}
	var req struct {
		Token string `json:"token"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeSubmitError(w, err)
		return
	}
	tok, err := s.store.Verify(strings.TrimSpace(req.Token))
	if err != nil {
		writeError(w, http.StatusUnauthorized, "the token is not valid")
		return
	}
	id, sess := s.sessions.start(tok)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.tls != nil,
		SameSite: http.SameSiteStrictMode, Expires: sess.expires,
	})
	writeJSON(w, http.StatusCreated, sess.info())
}

func (sess *session) info() SessionInfo {
	return SessionInfo{Team: sess.tok.Team, Role: string(sess.tok.Role), TokenName: sess.tok.Name, TokenID: sess.tok.ID, CSRF: sess.csrf}
}

func (s *Server) sessionInfo(w http.ResponseWriter, r *http.Request) {
	sess := s.sessions.get(r)
	if sess == nil || !s.tokenLive(sess.tok) {
		s.sessions.stop(r)
		writeError(w, http.StatusUnauthorized, "not signed in")
		return
	}
	writeJSON(w, http.StatusOK, sess.info())
}

// signOut ends the session. It needs the CSRF token, so that another
// site cannot sign the user out.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	sess := s.sessions.get(r)
	if sess == nil {
		writeError(w, http.StatusUnauthorized, "not signed in")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(csrfHeader)), []byte(sess.csrf)) != 1 {
		writeError(w, http.StatusForbidden, "signing out needs the session's "+csrfHeader+" header")
		return
	}
	s.sessions.stop(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.tls != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}
