package server

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/server/store"
	"github.com/flow-cwl/flow/storage"
)

// A team's S3 credentials: given once through the API, kept sealed in
// the store, and handed only to the team's own runs, through the
// environment of their flow process (never a file or a command line),
// with a storage.yaml of the team's that names those variables. A run
// never sees the daemon's own AWS settings.

func (s *Server) routeS3(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/s3-credentials", s.auth(store.ActionAdmin, s.addS3Credential))
	mux.HandleFunc("GET /api/v1/s3-credentials", s.auth(store.ActionRead, s.listS3Credentials))
	mux.HandleFunc("DELETE /api/v1/s3-credentials/{id}", s.auth(store.ActionAdmin, s.deleteS3Credential))
}

func (s *Server) addS3Credential(w http.ResponseWriter, r *http.Request, tok store.Token) {
	var req api.S3CredentialRequest
	if err := readJSON(w, r, &req); err != nil {
		writeSubmitError(w, err)
		return
	}
	c, err := s.store.AddS3Credential(tok.Team,
		store.S3Credential{Name: req.Name, Endpoint: req.Endpoint, Region: req.Region, Buckets: req.Buckets},
		store.S3Keys{AccessKey: req.AccessKey, SecretKey: req.SecretKey})
	clear([]byte(req.SecretKey))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, apiS3(c))
}

func (s *Server) listS3Credentials(w http.ResponseWriter, r *http.Request, tok store.Token) {
	cs, err := s.store.S3Credentials(tok.Team)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	out := []api.S3Credential{}
	for _, c := range cs {
		out = append(out, apiS3(c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteS3Credential(w http.ResponseWriter, r *http.Request, tok store.Token) {
	if err := s.store.DeleteS3Credential(tok.Team, r.PathValue("id")); err != nil {
		writeStoreError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func apiS3(c store.S3Credential) api.S3Credential {
	return api.S3Credential{ID: c.ID, Name: c.Name, Endpoint: c.Endpoint, Region: c.Region, Buckets: c.Buckets, AccessKeyHint: c.AccessKey, Created: c.Created}
}

// s3Env is the environment of a run's flow process: the daemon's, less
// every AWS setting and storage configuration of its own, plus the run's
// team's S3 settings (a storage.yaml written in the run's directory) and
// keys (variables it names).
func (r *runner) s3Env(run *store.Run, base []string) ([]string, error) {
	creds, keys, err := r.store.OpenS3Credentials(run.Team)
	if err != nil {
		return nil, err
	}
	env := make([]string, 0, len(base)+2*len(keys)+3)
	for _, kv := range base {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, storage.ConfigVar+"=") {
			env = append(env, kv)
		}
	}
	type svc struct {
		Name        string            `yaml:"name"`
		Endpoint    string            `yaml:"endpoint,omitempty"`
		Region      string            `yaml:"region,omitempty"`
		Buckets     []string          `yaml:"buckets,omitempty"`
		Credentials map[string]string `yaml:"credentials"`
	}
	var conf struct {
		S3 []svc `yaml:"s3"`
	}
	for i, c := range creds {
		ak, sk := fmt.Sprintf("FLOW_S3_%d_ACCESS_KEY", i), fmt.Sprintf("FLOW_S3_%d_SECRET_KEY", i)
		conf.S3 = append(conf.S3, svc{Name: c.Name, Endpoint: c.Endpoint, Region: c.Region, Buckets: c.Buckets,
			Credentials: map[string]string{"access_key_env": ak, "secret_key_env": sk}})
		env = append(env, ak+"="+keys[i].AccessKey, sk+"="+keys[i].SecretKey)
	}
	data, err := yaml.Marshal(&conf)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(run.Dir, ".flowd-storage.yaml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return nil, err
	}
	// No shared AWS files either: the daemon's would be the fallback.
	return append(env, storage.ConfigVar+"="+p, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"), nil
}
