package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors/sandbox"
	"github.com/flow-cwl/flow/internal/testenv"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/server/store"
)

// checkSandbox is what flowd checks the sandbox with.
func checkSandbox(ctx context.Context) error { return sandbox.Check(ctx, sandbox.Options{}) }

// flowBin is the flow binary the runner starts, built once.
var flowBin string

func TestMain(m *testing.M) {
	testenv.RunWithBinaries(m, map[string]string{"flow": "../cmd/flow"}, func(dir string) int {
		flowBin = filepath.Join(dir, "flow")
		return m.Run()
	})
}

// The daemon in this process, so that the race detector watches its
// runner: many runs submitted at once, some cancelled, all end, and the
// limits hold while they run.
func TestManyRunsAtOnceEndWithinTheLimits(t *testing.T) {
	dataDir := t.TempDir()
	st, err := store.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := st.CreateToken("lab", store.RoleOperator, "test")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{DataDir: dataDir, Flow: flowBin, Limits: Limits{Running: 3, RunningPerTeam: 3}, Log: zerolog.Nop(), CheckSandbox: checkSandbox})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	defer func() { cancel(); <-done }()
	base := "http://" + l.Addr().String()

	var wg sync.WaitGroup
	ids := make([]string, 12)
	for i := range ids {
		wg.Go(func() { ids[i] = submitSleep(t, base, secret, "0.3") })
	}
	wg.Wait()
	for _, id := range ids[:3] {
		post(t, base+"/api/v1/runs/"+id+"/cancel", secret)
	}
	peak := 0
	deadline := time.Now().Add(60 * time.Second)
	for {
		s.runner.mu.Lock()
		peak = max(peak, len(s.runner.running))
		s.runner.mu.Unlock()
		finished := 0
		for _, id := range ids {
			run, err := s.store.GetRun("lab", id)
			if err == nil && run.State.Finished() {
				finished++
			}
		}
		if finished == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs finished", finished, len(ids))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if peak > 3 {
		t.Errorf("%d runs ran at once, above the limit of 3", peak)
	}
	for i, id := range ids {
		run, _ := s.store.GetRun("lab", id)
		want := store.StateComplete
		if i < 3 {
			want = store.StateCanceled
		}
		if run.State != want && !(i < 3 && run.State == store.StateComplete) {
			t.Errorf("run %d: %s (%s), want %s", i, run.State, run.Error, want)
		}
	}
}

// submitSleep submits a run of `sleep seconds` and returns its id.
func submitSleep(t *testing.T, base, token, seconds string) string {
	status, id := submitTool(t, base, token, "sleep, '"+seconds+"'")
	if status != 201 {
		t.Errorf("submit: %d", status)
	}
	return id
}

// submitTool submits a one-tool run with this baseCommand list and
// returns the answer's status and the run's id.
func submitTool(t *testing.T, base, token, command string) (int, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("workflow_url", "tool.cwl")
	part, _ := w.CreateFormFile("workflow_attachment", "tool.cwl")
	fmt.Fprintf(part, "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [%s]\ninputs: []\noutputs: []\n", command)
	w.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/runs", &buf)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	var sub struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&sub)
	return resp.StatusCode, sub.ID
}

func post(t *testing.T, url, token string) {
	req, _ := http.NewRequest("POST", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// A team's queue is bounded: past its limit of unfinished runs, a
// submission is refused with 429, and other teams are not affected.
func TestQueueIsBoundedPerTeam(t *testing.T) {
	dataDir := t.TempDir()
	st, err := store.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	lab, _, _ := st.CreateToken("lab", store.RoleOperator, "")
	other, _, _ := st.CreateToken("other", store.RoleOperator, "")
	st.Close()
	s, err := New(Config{DataDir: dataDir, Flow: flowBin, Limits: Limits{Running: 1, QueuedPerTeam: 2}, Log: zerolog.Nop(), CheckSandbox: checkSandbox})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptestServer(t, s)
	submitSleep(t, srv, lab, "30")
	submitSleep(t, srv, lab, "30")
	if code, _ := submitTool(t, srv, lab, "'true'"); code != http.StatusTooManyRequests {
		t.Errorf("a third run of a team limited to 2: %d", code)
	}
	if code, _ := submitTool(t, srv, other, "'true'"); code != http.StatusCreated {
		t.Errorf("another team: %d", code)
	}
}

// httptestServer serves s's API (its queue is not run: runs stay queued).
func httptestServer(t *testing.T, s *Server) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler()}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}
