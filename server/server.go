// Package server is flowd, the team daemon: an HTTP API (flow's own under
// /api/v1, GA4GH WES 1.1 under /ga4gh/wes/v1) in front of a queue of
// workflow runs.
//
// Every request carries a bearer token (package store keeps only its
// hash); the token's team scopes everything the request can see, and its
// role (viewer, operator, admin) what it can do. A run of another team
// answers 404, as one that does not exist.
//
// A submitted run gets a directory of its own under its team's part of
// the data directory (teams.go), holding the workflow's files and inputs
// as uploaded (no path may leave it), and waits in the queue. The runner
// starts queued runs within the limits, each as a `flow run` process with
// its team's provenance database and step cache, its jobs confined to a
// sandbox (Isolation); its log lines become the run's events, which
// clients follow over Server-Sent Events. Runs, queue and events live in
// the daemon's bbolt database, so a daemon killed and started again picks
// every unfinished run up where it was.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/server/store"
)

// Config is what a daemon needs.
type Config struct {
	Listen        string // address, e.g. "127.0.0.1:8080"
	DataDir       string // database, key file, runs, provenance, cache
	TLSCert       string // serve HTTPS with this certificate and key when set
	TLSKey        string
	Flow          string // the flow binary runs are started with
	ComputeConfig string // clusters for runs that ask for one
	MaxBodyBytes  int64  // largest request body (a submission with its files); 0 means 1 GiB
	Init          bool   // accept an empty database file and make a new database in it
	// DataRoots are, by team, read-only directories the team's runs may
	// read besides their own files and the team's outputs (see confine.go).
	DataRoots map[string][]string
	Limits    Limits
	Log       zerolog.Logger
	// ShareCache gives every team one step cache, DataDir/cache, instead
	// of one each.
	ShareCache bool
	// Isolation says how runs' jobs are confined: IsolationSandbox (also
	// for "") or IsolationNone.
	Isolation string
	// CheckSandbox reports whether a sandbox can be made on this machine
	// (nil error: yes). With IsolationSandbox, New calls it and refuses to
	// make a daemon whose runs would all fail; it must be set then.
	CheckSandbox func(context.Context) error
}

// The values of Config.Isolation.
const (
	// IsolationSandbox runs every job on this machine in a sandbox (flow
	// run --sandbox): it sees the system's directories, its own directory
	// and its inputs, and no other team's files nor the daemon's, no other
	// process, no network unless its tool asks for it. Jobs on a cluster
	// run under the cluster account's permissions.
	IsolationSandbox = "sandbox"
	// IsolationNone runs jobs as the daemon's user, unconfined: any job can
	// read what the daemon can, other teams' runs included.
	IsolationNone = "none"
)

// Server is a running daemon.
type Server struct {
	cfg    Config
	layout layout
	store  *store.Store
	runner *runner
	log    zerolog.Logger
	tls    *tls.Config // nil: plain HTTP
	// sessions are the web interface's signed-in browsers (session.go).
	sessions sessions
}

// New opens the daemon's data directory.
func New(cfg Config) (*Server, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 30
	}
	tlsConfig, err := loadTLS(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, err
	}
	if err := checkIsolation(&cfg); err != nil {
		return nil, err
	}
	lay := layout{dataDir: cfg.DataDir, shareCache: cfg.ShareCache}
	for _, dir := range []string{filepath.Join(cfg.DataDir, "teams"), lay.agents()} {
		if err := mkdirPrivate(dir); err != nil {
			return nil, err
		}
	}
	// The agents' directory is the daemon's alone, whatever made it.
	if err := os.Chmod(lay.agents(), 0o700); err != nil {
		return nil, err
	}
	lc := launchConfig{Flow: cfg.Flow, Layout: lay, ComputeConfig: cfg.ComputeConfig, Sandbox: cfg.Isolation == IsolationSandbox, DataRoots: cfg.DataRoots}
	for _, p := range []string{cfg.DataDir, cfg.TLSKey, cfg.ComputeConfig} {
		if p != "" {
			abs, err := filepath.Abs(p) // flow runs in the run's directory
			if err != nil {
				return nil, err
			}
			lc.SandboxHide = append(lc.SandboxHide, abs)
		}
	}
	st, err := store.OpenWith(cfg.DataDir, store.Options{Init: cfg.Init})
	if err != nil {
		return nil, err
	}
	// No agent outlives the daemon that served it: what a killed one left
	// goes (the store's lock says no other daemon uses this directory).
	if left, err := os.ReadDir(lay.agents()); err == nil {
		for _, e := range left {
			os.Remove(filepath.Join(lay.agents(), e.Name()))
		}
	}
	s := &Server{cfg: cfg, layout: lay, store: st, log: cfg.Log, tls: tlsConfig}
	if err := s.sweepPartial(); err != nil {
		st.Close()
		return nil, err
	}
	s.runner = newRunner(st, lc, cfg.Limits, cfg.Log)
	s.runner.access = s.clusterAccess
	return s, nil
}

// checkIsolation checks the isolation setting, and that a sandbox can be
// made here when runs are to be sandboxed: otherwise every run would fail
// at its first job, long after the daemon said it was ready.
func checkIsolation(cfg *Config) error {
	switch cfg.Isolation {
	case "", IsolationSandbox:
		cfg.Isolation = IsolationSandbox
		if cfg.CheckSandbox == nil {
			return errors.New("isolation sandbox: the daemon has no way to check for a sandbox (Config.CheckSandbox is nil)")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cfg.CheckSandbox(ctx); err != nil {
			return fmt.Errorf("isolation: sandbox, but no sandbox can be made on this machine (%v); fix that, or set isolation: none to run teams' jobs unconfined", oneLine(err.Error()))
		}
	case IsolationNone:
		cfg.Log.Warn().Msg("isolation: none: team runs are not confined; every job runs as the daemon's user and can read other teams' runs, provenance and caches")
	default:
		return fmt.Errorf("isolation %q: the values are sandbox and none", cfg.Isolation)
	}
	return nil
}

// oneLine keeps an error's first line.
func oneLine(s string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return first
}

// loadTLS reads the certificate and key flowd serves HTTPS with, at start,
// so that a wrong path or a key that does not match is an error then
// rather than a failed handshake for every client.
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls_cert and tls_key go together: set both to serve HTTPS, or neither")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot load the TLS certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Close closes the database.
func (s *Server) Close() error { return s.store.Close() }

// Serve answers requests on l and runs the queue until ctx ends, then
// stops: requests get a few seconds to finish, running runs are stopped
// and stay unfinished, to be continued by the next start.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }, TLSConfig: s.tls}
	// The queue stops with the daemon, and also when serving fails.
	queueCtx, stopQueue := context.WithCancel(ctx)
	defer stopQueue()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.runner.loop(queueCtx)
	}()
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			errc <- srv.ServeTLS(l, "", "") // the certificate is in TLSConfig
		} else {
			errc <- srv.Serve(l)
		}
	}()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	stopQueue()
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ListenAndServe listens on the configured address.
func (s *Server) ListenAndServe(ctx context.Context) error {
	l, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Listen, err)
	}
	s.log.Info().Str("address", l.Addr().String()).Bool("tls", s.tls != nil).Msg("flowd listening")
	return s.Serve(ctx, l)
}

// Handler is the daemon's HTTP API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	s.routeRuns(mux)
	s.routeDataCopies(mux)
	s.routeAdmin(mux)
	s.routeWorkflows(mux)
	s.routeSteps(mux)
	s.routeWES(mux)
	s.routeSession(mux)
	s.routeWeb(mux)
	return s.accessLog(mux, securityHeaders(http.MaxBytesHandler(mux, s.cfg.MaxBodyBytes)))
}

// accessLog logs one line per request: method, path (never the query,
// which may hold a token), status, duration. The metrics count it under
// its route in mux.
func (s *Server) accessLog(mux *http.ServeMux, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.log.Info().Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.status).
			Dur("took", time.Since(start)).Str("remote", r.RemoteAddr).Msg("request")
		metrics.observe(mux, r, sw.status, time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets event streams through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
