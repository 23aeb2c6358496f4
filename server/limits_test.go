package server

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/internal/testenv"
	"github.com/flow-cwl/flow/server/store"
	"github.com/flow-cwl/flow/server/wesapi"
)

const sleepTool = "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sleep, '30']\ninputs: []\noutputs: []\n"

// newTestServer makes a daemon in this process with operator tokens for
// the teams, and serves its API without running its queue: runs stay
// queued.
// runDirs lists the run directories of every team.
func runDirs(dataDir string) []string {
	dirs, _ := filepath.Glob(filepath.Join(dataDir, "teams", "*", "runs", "*"))
	return dirs
}

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
	cfg.Flow, cfg.Log, cfg.CheckSandbox = flowBin, zerolog.Nop(), checkSandbox
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
		dirs := runDirs(s.cfg.DataDir)
		if len(dirs) != limit*(i+1) {
			t.Errorf("%s: %d run directories for %d runs: refused runs left theirs", way.path, len(dirs), limit*(i+1))
		}
	}
}

// streamForm streams a submission of sleepTool with fieldBytes of extra
// fields (in 64 KiB fields) and an attachment of fileBytes, generated as
// it is sent, so that the client holds none of it in memory.
func streamForm(fieldBytes, fileBytes int64) (io.Reader, string) {
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		w.WriteField("workflow_url", "tool.cwl")
		part, _ := w.CreateFormFile("workflow_attachment", "tool.cwl")
		part.Write([]byte(sleepTool))
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for i := int64(0); i*int64(len(chunk)) < fieldBytes; i++ {
			part, err := w.CreateFormField(fmt.Sprintf("field%d", i))
			if err == nil {
				_, err = part.Write(chunk)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		if fileBytes > 0 {
			part, _ := w.CreateFormFile("workflow_attachment", "data.bin")
			for left := fileBytes; left > 0; left -= int64(len(chunk)) {
				if _, err := part.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
		}
		pw.CloseWithError(w.Close())
	}()
	return pr, w.FormDataContentType()
}

// allocated is how many bytes the process allocated while fn ran: an
// upper bound of what a request made the daemon (in this process) hold.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// One request grows the daemon's memory by a few MiB at most: attachments
// stream to disk, and fields, however many, have one total bound, past
// which the answer is 413, on flow's API and on WES. A body over the
// daemon's limit is 413 too.
func TestOneRequestHoldsLittleMemory(t *testing.T) {
	const mib = 1 << 20
	base, s, tokens := newTestServer(t, Config{MaxBodyBytes: 128 * mib}, "lab")
	const bound = 8 * mib
	for _, path := range []string{"/api/v1/runs", wesapi.BasePath + "/runs"} {
		var status int
		var resp []byte
		took := allocated(func() {
			body, ctype := streamForm(0, 64*mib)
			status, _, resp = call(t, "POST", base+path, tokens["lab"], body, ctype)
		})
		if status/100 != 2 {
			t.Errorf("%s: a 64 MiB attachment: %d %s", path, status, resp)
		}
		t.Logf("%s: a 64 MiB attachment: %.1f MiB allocated", path, float64(took)/mib)
		if took > bound {
			t.Errorf("%s: a 64 MiB attachment allocated %.1f MiB", path, float64(took)/mib)
		}

		took = allocated(func() {
			body, ctype := streamForm(48*mib, 0)
			status, _, resp = call(t, "POST", base+path, tokens["lab"], body, ctype)
		})
		t.Logf("%s: 48 MiB of fields: %d, %.1f MiB allocated", path, status, float64(took)/mib)
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: 48 MiB of fields in 64 KiB fields: %d %s", path, status, resp)
		}
		if took > bound {
			t.Errorf("%s: 48 MiB of fields allocated %.1f MiB", path, float64(took)/mib)
		}

		body, ctype := streamForm(0, 200*mib)
		if status, _, resp = call(t, "POST", base+path, tokens["lab"], body, ctype); status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: a body over max_body_bytes: %d %s", path, status, resp)
		}
	}
	n, _ := s.store.UnfinishedCount("lab")
	if dirs := runDirs(s.cfg.DataDir); len(dirs) != n {
		t.Errorf("%d run directories for %d runs: refused submissions left theirs", len(dirs), n)
	}
	body := `{"version":"1","inputs":{"x":"` + strings.Repeat("x", 2*mib) + `"}}`
	if status, _, resp := call(t, "POST", base+"/api/v1/workflows/any/runs", tokens["lab"], strings.NewReader(body), "application/json"); status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MiB trigger: %d %s", status, resp)
	}
}

// A disk that fills up while an attachment is written is the daemon's
// problem, not the client's: 507, on flow's API and WES, and the partial
// run directory goes. The run directories are on a 1 MiB tmpfs.
func TestFullDiskIs507(t *testing.T) {
	dataDir := t.TempDir()
	runs := filepath.Join(dataDir, "teams", "lab", "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", runs).CombinedOutput(); err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("cannot mount a small tmpfs: %v %s", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", runs).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", runs, err, out)
		}
	})
	base, _, tokens := newTestServer(t, Config{DataDir: dataDir}, "lab")
	for i, path := range []string{"/api/v1/runs", wesapi.BasePath + "/runs"} {
		body, ctype := streamForm(0, 4<<20)
		status, _, resp := call(t, "POST", base+path, tokens["lab"], body, ctype)
		if status != http.StatusInsufficientStorage {
			t.Errorf("%s: a 4 MiB attachment on a 1 MiB disk: %d %s", path, status, resp)
		}
		if dirs, _ := os.ReadDir(runs); len(dirs) != i { // the runs accepted so far
			t.Errorf("%s: the refused run left its directory", path)
		}
		b, ctype := sleepForm()
		if status, _, resp := call(t, "POST", base+path, tokens["lab"], bytes.NewReader(b), ctype); status/100 != 2 {
			t.Errorf("%s: a small run after a full disk: %d %s", path, status, resp)
		}
	}
}

// A form part's headers are bounded too: the standard library would take
// 10 MiB of them per part, and hold several copies while parsing.
func TestPartHeadersAreBounded(t *testing.T) {
	base, _, tokens := newTestServer(t, Config{}, "lab")
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	var status int
	var resp []byte
	took := allocated(func() {
		pr, pw := io.Pipe()
		go func() { // streamed, so that the client holds none of it
			_, err := io.WriteString(pw, "--XX\r\nContent-Disposition: form-data; name=\"workflow_url\"\r\nX-Pad: ")
			for i := 0; i < 9<<20/len(chunk) && err == nil; i++ {
				_, err = pw.Write(chunk)
			}
			if err == nil {
				_, err = io.WriteString(pw, "\r\n\r\ntool.cwl\r\n--XX--\r\n")
			}
			pw.CloseWithError(err)
		}()
		status, _, resp = call(t, "POST", base+"/api/v1/runs", tokens["lab"], pr, "multipart/form-data; boundary=XX")
	})
	t.Logf("a 9 MiB part header: %d, %.1f MiB allocated", status, float64(took)/(1<<20))
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 9 MiB part header: %d %s", status, resp)
	}
	if took > 8<<20 {
		t.Errorf("a 9 MiB part header allocated %.1f MiB", float64(took)/(1<<20))
	}
}
