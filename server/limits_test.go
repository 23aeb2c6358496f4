package server

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/server/store"
	"github.com/flow-cwl/flow/server/wesapi"
)

const sleepTool = "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sleep, '30']\ninputs: []\noutputs: []\n"

// newTestServer makes a daemon in this process with operator tokens for
// the teams, and serves its API without running its queue: runs stay
// queued.
func newTestServer(t *testing.T, cfg Config, teams ...string) (base string, s *Server, tokens map[string]string) {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	tokens = map[string]string{}
	for _, team := range teams {
		if tokens[team], _, err = st.CreateToken(team, store.RoleOperator, ""); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg.Flow, cfg.Log = flowBin, zerolog.Nop()
	if s, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return httptestServer(t, s), s, tokens
}

// call sends a request and returns its status, headers and body.
func call(t *testing.T, method, url, token string, body io.Reader, ctype string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// sleepForm is a valid submission of sleepTool with extra fields.
func sleepForm(extra ...[2]string) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("workflow_url", "tool.cwl")
	for _, kv := range extra {
		w.WriteField(kv[0], kv[1])
	}
	part, _ := w.CreateFormFile("workflow_attachment", "tool.cwl")
	part.Write([]byte(sleepTool))
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// Twenty submissions at once to a team with room for five: five runs are
// created, the rest answer 429 with Retry-After, on each way of creating
// a run (flow's API, WES, a registered workflow's trigger).
func TestQueueLimitHoldsUnderConcurrentSubmissions(t *testing.T) {
	const limit, tries = 5, 20
	base, s, tokens := newTestServer(t, Config{Limits: Limits{Running: 1, QueuedPerTeam: limit}}, "api", "wes", "registry")

	body, ctype := sleepForm()
	status, _, resp := call(t, "POST", base+"/api/v1/workflows?name=sleep&version=1", tokens["registry"], bytes.NewReader(body), ctype)
	if status != http.StatusCreated {
		t.Fatalf("registering a workflow: %d %s", status, resp)
	}
	ways := []struct {
		team, path string
		body       func() ([]byte, string)
	}{
		{"api", "/api/v1/runs", func() ([]byte, string) { return sleepForm() }},
		{"wes", wesapi.BasePath + "/runs", func() ([]byte, string) { return sleepForm() }},
		{"registry", "/api/v1/workflows/sleep/runs", func() ([]byte, string) { return []byte(`{"version":"1"}`), "application/json" }},
	}
	for i, way := range ways {
		var mu sync.Mutex
		codes := map[int]int{}
		var wg sync.WaitGroup
		for range tries {
			wg.Go(func() {
				body, ctype := way.body()
				status, h, resp := call(t, "POST", base+way.path, tokens[way.team], bytes.NewReader(body), ctype)
				if status == http.StatusTooManyRequests && h.Get("Retry-After") == "" {
					t.Errorf("%s: 429 without Retry-After", way.path)
				}
				if status != http.StatusTooManyRequests && status/100 != 2 {
					t.Errorf("%s: %d %s", way.path, status, resp)
				}
				mu.Lock()
				codes[status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		n, err := s.store.UnfinishedCount(way.team)
		if err != nil {
			t.Fatal(err)
		}
		if n != limit || codes[http.StatusTooManyRequests] != tries-limit {
			t.Errorf("%s: %d runs queued of a limit of %d; answers %v", way.path, n, limit, codes)
		}
		dirs, _ := os.ReadDir(filepath.Join(s.cfg.DataDir, "runs"))
		if len(dirs) != limit*(i+1) {
			t.Errorf("%s: %d run directories for %d runs: refused runs left theirs", way.path, len(dirs), limit*(i+1))
		}
	}
}
