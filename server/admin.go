package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/internal/clusters"
	"github.com/flow-cwl/flow/internal/remote"
	"github.com/flow-cwl/flow/internal/shell"
	"github.com/flow-cwl/flow/server/store"
)

func (s *Server) routeAdmin(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/tokens", s.auth(store.ActionAdmin, s.createToken))
	mux.HandleFunc("GET /api/v1/tokens", s.auth(store.ActionAdmin, s.listTokens))
	mux.HandleFunc("DELETE /api/v1/tokens/{id}", s.auth(store.ActionAdmin, s.revokeToken))
	mux.HandleFunc("POST /api/v1/ssh-keys", s.auth(store.ActionAdmin, s.createSSHKey))
	mux.HandleFunc("GET /api/v1/ssh-keys", s.auth(store.ActionRead, s.listSSHKeys))
	mux.HandleFunc("DELETE /api/v1/ssh-keys/{id}", s.auth(store.ActionAdmin, s.deleteSSHKey))
	mux.HandleFunc("GET /api/v1/systems", s.auth(store.ActionRead, s.systems))
	mux.HandleFunc("GET /metrics", s.metrics)
	s.routeS3(mux)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, tok store.Token) {
	var req api.TokenRequest
	if err := readJSON(w, r, &req); err != nil {
		writeSubmitError(w, err)
		return
	}
	if !store.Role(req.Role).Valid() {
		writeError(w, http.StatusBadRequest, "role must be admin, operator or viewer")
		return
	}
	secret, t, err := s.store.CreateToken(tok.Team, store.Role(req.Role), req.Name)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.NewToken{Token: apiToken(t), Secret: secret})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, tok store.Token) {
	ts, err := s.store.Tokens(tok.Team)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	out := []api.Token{}
	for _, t := range ts {
		out = append(out, apiToken(t))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, tok store.Token) {
	if err := s.store.RevokeToken(tok.Team, r.PathValue("id")); err != nil {
		writeStoreError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func apiToken(t store.Token) api.Token {
	return api.Token{ID: t.ID, Team: t.Team, Name: t.Name, Role: string(t.Role), Created: t.Created, LastUsed: t.LastUsed, Revoked: t.Revoked}
}

// createSSHKey makes a key pair for the team; only the public half ever
// leaves the daemon.
func (s *Server) createSSHKey(w http.ResponseWriter, r *http.Request, tok store.Token) {
	var req struct {
		Name string `json:"name"`
	}
	if err := readJSON(w, r, &req); err != nil && !errors.Is(err, errBadRequest) {
		writeSubmitError(w, err) // too large; an empty or odd body means the default name
		return
	}
	if req.Name == "" {
		req.Name = "default"
	}
	k, err := s.store.GenerateSSHKey(tok.Team, req.Name)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, apiKey(k))
}

func (s *Server) listSSHKeys(w http.ResponseWriter, r *http.Request, tok store.Token) {
	ks, err := s.store.SSHKeys(tok.Team)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	out := []api.SSHKey{}
	for _, k := range ks {
		out = append(out, apiKey(k))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteSSHKey(w http.ResponseWriter, r *http.Request, tok store.Token) {
	if err := s.store.DeleteSSHKey(tok.Team, r.PathValue("id")); err != nil {
		writeStoreError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func apiKey(k store.SSHKey) api.SSHKey {
	return api.SSHKey{ID: k.ID, Name: k.Name, PublicKey: k.PublicKey, Fingerprint: k.Fingerprint, Created: k.Created}
}

// systems says how runs are confined and checks every configured cluster
// at once, as `flow clusters status` does.
func (s *Server) systems(w http.ResponseWriter, r *http.Request, tok store.Token) {
	out := api.Systems{Isolation: s.cfg.Isolation, Clusters: []api.ClusterStatus{}}
	if s.cfg.ComputeConfig != "" {
		cfg, err := clusters.Load(s.cfg.ComputeConfig)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		for _, st := range probeAll(r.Context(), cfg.Clusters) {
			out.Clusters = append(out.Clusters, apiClusterStatus(st))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func apiClusterStatus(st clusters.Status) api.ClusterStatus {
	out := api.ClusterStatus{Name: st.Name, Reachable: st.Reachable, Latency: st.Latency, Partitions: []api.PartitionInfo{},
		Workdir: st.Workdir, FreeBytes: st.FreeBytes, Error: st.Error}
	for _, p := range st.Partitions {
		out.Partitions = append(out.Partitions, api.PartitionInfo{Name: p.Name, Up: p.Up, Avail: p.Avail, Default: p.Default, Nodes: p.Nodes})
	}
	return out
}

func probeAll(ctx context.Context, cs []clusters.Cluster) []clusters.Status {
	out := make([]clusters.Status, len(cs))
	var wg sync.WaitGroup
	for i := range cs {
		wg.Go(func() {
			c := &cs[i]
			ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			cl, err := remote.Dial(ctx, remote.Config{Host: c.Host, Port: c.Port, User: c.Username, KeyPath: c.SSHKey.Path, KnownHosts: c.KnownHosts})
			if err != nil {
				out[i] = clusters.Status{Name: c.Name, Workdir: c.Workdir, Error: err.Error()}
				return
			}
			defer cl.Close()
			out[i] = clusters.Probe(ctx, c, cl, shell.Quote)
		})
	}
	wg.Wait()
	return out
}
