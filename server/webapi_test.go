package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/server/store"
)

// webDaemon is a daemon in this process with an admin and a viewer token
// of team lab and an operator token of team other.
type webDaemon struct {
	base                 string
	admin, viewer, other string
	s                    *Server
}

func startWebDaemon(t *testing.T) *webDaemon {
	t.Helper()
	dataDir := t.TempDir()
	st, err := store.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	d := &webDaemon{}
	d.admin, _, _ = st.CreateToken("lab", store.RoleAdmin, "alice laptop")
	d.viewer, _, _ = st.CreateToken("lab", store.RoleViewer, "pi")
	d.other, _, _ = st.CreateToken("other", store.RoleOperator, "")
	st.Close()
	d.s, err = New(Config{DataDir: dataDir, Flow: flowBin, Log: zerolog.Nop(), CheckSandbox: checkSandbox})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.s.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done; d.s.Close() })
	d.base = "http://" + l.Addr().String()
	return d
}

// do sends a request with a bearer token (or none) and returns status and body.
func (d *webDaemon) do(t *testing.T, c *http.Client, method, path, token string, body io.Reader, ctype string, hdr ...string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, d.base+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// register registers testdata/web/launch.cwl as "count" version 1.0.
func (d *webDaemon) register(t *testing.T, token string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField(api.FieldURL, "launch.cwl")
	for _, f := range []string{"launch.cwl", "count.cwl"} {
		data, err := os.ReadFile("testdata/web/" + f)
		if err != nil {
			t.Fatal(err)
		}
		part, _ := w.CreateFormFile(api.FieldAttachment, f)
		part.Write(data)
	}
	w.Close()
	if status, body := d.do(t, nil, "POST", "/api/v1/workflows?name=count&version=1.0", token, &buf, w.FormDataContentType()); status != 201 {
		t.Fatalf("register: %d %s", status, body)
	}
}

// waitRun waits for a run to finish and returns it.
func (d *webDaemon) waitRun(t *testing.T, token, id string) api.Run {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		_, body := d.do(t, nil, "GET", "/api/v1/runs/"+id, token, nil, "")
		var r api.Run
		if json.Unmarshal(body, &r); r.State.Finished() {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", id)
	return api.Run{}
}

// A session: a token sent once gives a cookie (HttpOnly, SameSite=Strict);
// reads work with it, writes only with the CSRF token; signing out ends
// it, and so does revoking its token, event streams included.
func TestSessions(t *testing.T) {
	d := startWebDaemon(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	signIn := func() SessionInfo {
		t.Helper()
		req, _ := http.NewRequest("POST", d.base+"/api/v1/session", strings.NewReader(`{"token": "`+d.admin+`"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var info SessionInfo
		json.NewDecoder(resp.Body).Decode(&info)
		if resp.StatusCode != 201 || info.Team != "lab" || info.Role != "admin" || info.CSRF == "" {
			t.Fatalf("sign in: %d %+v", resp.StatusCode, info)
		}
		c := resp.Header.Get("Set-Cookie")
		if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") || strings.Contains(c, d.admin) {
			t.Errorf("the session cookie: %s", c)
		}
		return info
	}
	// Another site's form can post text/plain without a preflight: refused.
	if status, _ := d.do(t, browser, "POST", "/api/v1/session", "", strings.NewReader(`{"token": "`+d.admin+`"}`), "text/plain"); status != 415 {
		t.Errorf("a sign-in sent as text/plain: %d, want 415", status)
	}
	if status, _ := d.do(t, browser, "POST", "/api/v1/session", "", strings.NewReader(`{"token": "flowd_wrong"}`), "application/json"); status != 401 {
		t.Errorf("a wrong token signs in: %d", status)
	}
	info := signIn()
	if status, body := d.do(t, browser, "GET", "/api/v1/runs", "", nil, ""); status != 200 {
		t.Errorf("a read with the session: %d %s", status, body)
	}
	tokReq := strings.NewReader(`{"name": "ci", "role": "viewer"}`)
	if status, _ := d.do(t, browser, "POST", "/api/v1/tokens", "", tokReq, "application/json"); status != 403 {
		t.Errorf("a write without the CSRF header: %d, want 403", status)
	}
	tokReq = strings.NewReader(`{"name": "ci", "role": "viewer"}`)
	status, body := d.do(t, browser, "POST", "/api/v1/tokens", "", tokReq, "application/json", csrfHeader, info.CSRF)
	if status != 201 {
		t.Fatalf("a write with the CSRF header: %d %s", status, body)
	}
	if status, _ := d.do(t, browser, "DELETE", "/api/v1/session", "", nil, ""); status != 403 {
		t.Errorf("signing out without the CSRF header: %d, want 403", status)
	}

	// Sign-out ends a stream the session holds.
	stream := openStream(t, browser, d.base+"/api/v1/events")
	if status, _ := d.do(t, browser, "DELETE", "/api/v1/session", "", nil, "", csrfHeader, info.CSRF); status != 204 {
		t.Fatalf("sign out: %d", status)
	}
	stream.waitEnd(t, "signing out")
	if status, _ := d.do(t, browser, "GET", "/api/v1/runs", "", nil, ""); status != 401 {
		t.Errorf("a read after signing out: %d, want 401", status)
	}

	// Revoking the token ends the session and its stream.
	signIn()
	stream = openStream(t, browser, d.base+"/api/v1/events")
	_, body = d.do(t, nil, "GET", "/api/v1/tokens", d.admin, nil, "")
	var toks []api.Token
	json.Unmarshal(body, &toks)
	for _, tk := range toks {
		if tk.Name == "alice laptop" {
			d.do(t, nil, "DELETE", "/api/v1/tokens/"+tk.ID, d.admin, nil, "")
		}
	}
	stream.waitEnd(t, "revoking the token")
	if status, _ := d.do(t, browser, "GET", "/api/v1/session", "", nil, ""); status != 401 {
		t.Errorf("the session of a revoked token: %d, want 401", status)
	}
}

type sseStream struct{ ended chan struct{} }

func openStream(t *testing.T, c *http.Client, url string) *sseStream {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("event stream: %v %v", resp, err)
	}
	s := &sseStream{ended: make(chan struct{})}
	go func() {
		defer close(s.ended)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
		}
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return s
}

func (s *sseStream) waitEnd(t *testing.T, what string) {
	t.Helper()
	select {
	case <-s.ended:
	case <-time.After(30 * time.Second):
		t.Fatalf("the event stream goes on after %s", what)
	}
}

// A registered workflow's inputs, as a form needs them; a launch with an
// uploaded file runs; its step graph and filters; a re-run runs again.
func TestLaunchFormInputsGraphFiltersRerun(t *testing.T) {
	d := startWebDaemon(t)
	d.register(t, d.admin)
	status, body := d.do(t, nil, "GET", "/api/v1/workflows/count/inputs", d.viewer, nil, "")
	var in api.Inputs
	if json.Unmarshal(body, &in); status != 200 || len(in.Inputs) != 4 {
		t.Fatalf("inputs: %d %s", status, body)
	}
	kinds := map[string]string{}
	for _, f := range in.Inputs {
		kinds[f.ID] = f.Type.Kind
	}
	if kinds["reads"] != "File" || kinds["mode"] != "enum" || kinds["names"] != "array" || in.Inputs[1].Type.Symbols[1] != "exact" ||
		in.Inputs[2].Type.Items.Kind != "string" || !in.Inputs[3].HasDefault || in.Label != "Count a sample's lines" {
		t.Errorf("inputs: %s", body)
	}
	if status, _ := d.do(t, nil, "GET", "/api/v1/workflows/count/inputs", d.other, nil, ""); status != 404 {
		t.Errorf("another team's workflow's inputs: %d", status)
	}

	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField(api.FieldTrigger, `{"inputs": {"reads": {"class": "File", "location": "uploads/s1.fa"}, "mode": "exact", "names": ["a", "b"]}}`)
	part, _ := w.CreateFormFile(api.FieldUpload, "s1.fa")
	part.Write([]byte(">a\nACGT\n>b\nTTGA\n"))
	w.Close()
	status, body = d.do(t, nil, "POST", "/api/v1/workflows/count/runs", d.admin, &buf, w.FormDataContentType())
	var sub api.Submitted
	if json.Unmarshal(body, &sub); status != 201 {
		t.Fatalf("launch: %d %s", status, body)
	}
	if r := d.waitRun(t, d.admin, sub.ID); r.State != api.Complete || r.SubmittedBy != "alice laptop" {
		t.Fatalf("the launched run: %s %q %s", r.State, r.SubmittedBy, r.Error)
	}
	if _, out := d.do(t, nil, "GET", "/api/v1/runs/"+sub.ID+"/files/report.txt", d.viewer, nil, ""); string(out) != "mode exact, names a b\n4\n" {
		t.Errorf("the report: %q", out)
	}

	if _, in := d.do(t, nil, "GET", "/api/v1/runs/"+sub.ID+"/submitted/uploads/s1.fa", d.viewer, nil, ""); string(in) != ">a\nACGT\n>b\nTTGA\n" {
		t.Errorf("the uploaded input: %q", in)
	}
	for _, escape := range []string{"../../../flowd.db", "%2e%2e/%2e%2e/%2e%2e/flowd.db"} {
		if status, _ := d.do(t, nil, "GET", "/api/v1/runs/"+sub.ID+"/submitted/"+escape, d.viewer, nil, ""); status == 200 {
			t.Errorf("submitted/%s is served", escape)
		}
	}

	// An upload's name cannot leave the run's uploads (multipart keeps
	// only a name's last element: ".." is what is left to refuse).
	buf.Reset()
	w = multipart.NewWriter(&buf)
	w.WriteField(api.FieldTrigger, `{"inputs": {}}`)
	part, _ = w.CreateFormFile(api.FieldUpload, "..")
	w.Close()
	if status, body := d.do(t, nil, "POST", "/api/v1/workflows/count/runs", d.admin, &buf, w.FormDataContentType()); status != 400 {
		t.Errorf("an upload named ..: %d %s", status, body)
	}

	status, body = d.do(t, nil, "GET", "/api/v1/runs/"+sub.ID+"/graph", d.viewer, nil, "")
	var g api.Graph
	if json.Unmarshal(body, &g); status != 200 || len(g.Nodes) != 6 || len(g.Edges) != 4 {
		t.Errorf("graph: %d %s", status, body)
	}
	if status, _ := d.do(t, nil, "GET", "/api/v1/runs/"+sub.ID+"/graph", d.other, nil, ""); status != 404 {
		t.Errorf("another team's run's graph: %d", status)
	}

	status, body = d.do(t, nil, "POST", "/api/v1/runs/"+sub.ID+"/rerun", d.admin, nil, "")
	var again api.Submitted
	if json.Unmarshal(body, &again); status != 201 {
		t.Fatalf("rerun: %d %s", status, body)
	}
	if r := d.waitRun(t, d.admin, again.ID); r.State != api.Complete || r.Name != "count@1.0" {
		t.Errorf("the re-run: %s %s %s", r.State, r.Name, r.Error)
	}
	if status, _ := d.do(t, nil, "POST", "/api/v1/runs/"+sub.ID+"/rerun", d.viewer, nil, ""); status != 403 {
		t.Errorf("a viewer re-runs: %d", status)
	}
	d.waitRun(t, d.admin, submitSleep(t, d.base, d.admin, "0"))

	count := func(q string) int {
		t.Helper()
		status, body := d.do(t, nil, "GET", "/api/v1/runs?"+q, d.viewer, nil, "")
		var l api.RunList
		if json.Unmarshal(body, &l); status != 200 {
			t.Fatalf("runs?%s: %d %s", q, status, body)
		}
		return len(l.Runs)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	for q, want := range map[string]int{"": 3, "workflow=count": 2, "workflow=tool.cwl": 1, "q=" + sub.ID[:20]: 1, "since=" + today: 3, "until=2000-01-01": 0} {
		if got := count(q); got != want {
			t.Errorf("runs?%s: %d runs, want %d", q, got, want)
		}
	}
	if status, body := d.do(t, nil, "GET", "/api/v1/runs?since=yesterday", d.viewer, nil, ""); status != 400 || !strings.Contains(string(body), "since") {
		t.Errorf("a bad date: %d %s", status, body)
	}
	status, body = d.do(t, nil, "GET", "/api/v1/runs/"+sub.ID+"/lineage/report.txt", d.viewer, nil, "")
	if status != 200 || !strings.Contains(string(body), `"name": "s1.fa"`) || !strings.Contains(string(body), "main/count") {
		t.Errorf("lineage: %d %s", status, body)
	}
	status, body = d.do(t, nil, "GET", "/api/v1/runs/"+sub.ID+"/ro-crate", d.viewer, nil, "")
	if status != 200 || !bytes.HasPrefix(body, []byte("PK")) {
		t.Errorf("RO-Crate: %d %.100q", status, body)
	}
	status, body = d.do(t, nil, "GET", "/api/v1/events/latest", d.viewer, nil, "")
	var cursor api.EventCursor
	if json.Unmarshal(body, &cursor); status != 200 || cursor.LastEventID == 0 {
		t.Errorf("the latest event: %d %s", status, body)
	}
	if first := firstEventID(t, d.base+fmt.Sprintf("/api/v1/events?last_event_id=%d", cursor.LastEventID-1), d.viewer); first != fmt.Sprint(cursor.LastEventID) {
		t.Errorf("the stream after the latest event but one starts at %s, want %d", first, cursor.LastEventID)
	}
	status, body = d.do(t, nil, "GET", "/api/v1/usage", d.admin, nil, "")
	var u api.TeamUsage
	if json.Unmarshal(body, &u); status != 200 || u.Runs[api.Complete] != 3 || u.Workflow["count"] != 2 || u.Jobs < 2 {
		t.Errorf("usage: %d %s", status, body)
	}
}

// The page is served with a strict policy; the API's answers (output
// files among them) can run no script with the daemon's origin.
func TestWebHeaders(t *testing.T) {
	d := startWebDaemon(t)
	for _, path := range []string{"/", "/ui/js/app.js", "/ui/vendor/dagre.esm.js"} {
		resp, err := http.Get(d.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	resp, err := http.Get(d.base + "/api/v1/runs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the API's policy: %q", csp)
	}
}

// firstEventID reads an event stream until its first event and returns
// that event's id.
func firstEventID(t *testing.T, url, token string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			return id
		}
	}
	return ""
}
