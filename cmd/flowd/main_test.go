package main

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/testenv"
)

// The tests run the real binaries: flowd, and flow beside it (where flowd
// looks for it), built once.
var binDir string

func TestMain(m *testing.M) {
	testenv.RunWithBinaries(m, map[string]string{"flowd": ".", "flow": "../flow"}, func(dir string) int {
		binDir = dir
		return m.Run()
	})
}

// daemon is a flowd process of a test.
type daemon struct {
	t       testing.TB
	dataDir string
	url     string
	cmd     *exec.Cmd
	log     *testenv.Buffer
	extra   []string
	client  *http.Client        // the test's own requests; nil: http.DefaultClient
	bin     string              // where flowd and flow are; "": binDir
	cred    *syscall.Credential // run flowd as this account; nil: as the test
	env     []string            // added to flowd's environment
}

// command is one of the daemon's binaries, run as its account.
func (d *daemon) command(args ...string) *exec.Cmd {
	bin := d.bin
	if bin == "" {
		bin = binDir
	}
	cmd := exec.Command(filepath.Join(bin, "flowd"), args...)
	cmd.Env = append(os.Environ(), d.env...)
	if d.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: d.cred}
	}
	return cmd
}

func (d *daemon) httpClient() *http.Client {
	if d.client != nil {
		return d.client
	}
	return http.DefaultClient
}

// newDaemon prepares a data directory; tokens are made before start.
func newDaemon(t *testing.T, extra ...string) *daemon {
	return &daemon{t: t, dataDir: filepath.Join(t.TempDir(), "data"), extra: extra}
}

// token creates a token offline, as an operator bootstraps a team.
func (d *daemon) token(team, role string) string {
	d.t.Helper()
	out, err := d.command("token", "create", "--team", team, "--role", role, "--data-dir", d.dataDir).Output()
	if err != nil {
		d.t.Fatalf("flowd token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// start runs flowd on a free port and waits until it answers.
func (d *daemon) start() {
	d.t.Helper()
	if d.url == "" {
		d.url = "http://" + freeAddr(d.t)
	}
	d.log = &testenv.Buffer{}
	u, err := url.Parse(d.url)
	if err != nil {
		d.t.Fatal(err)
	}
	args := append([]string{"--listen", u.Host, "--data-dir", d.dataDir}, d.extra...)
	d.cmd = d.command(args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(d.stop)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := d.httpClient().Get(d.url + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("flowd did not answer:\n%s", d.log.String())
}

// kill stops flowd with SIGKILL, as a crash would.
func (d *daemon) kill() {
	d.cmd.Process.Kill()
	d.cmd.Wait()
}

func (d *daemon) stop() {
	if d.cmd.ProcessState == nil {
		d.cmd.Process.Signal(syscall.SIGTERM)
		d.cmd.Wait()
	}
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// request sends an API request with a token and returns status and body.
func (d *daemon) request(method, path, token string, body []byte, ctype string) (int, []byte) {
	d.t.Helper()
	req, err := http.NewRequest(method, d.url+path, bytes.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := d.httpClient().Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

// waitState polls a run until it is finished and returns its state.
func (d *daemon) waitState(token, id string, limit time.Duration) string {
	d.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		_, body := d.request("GET", "/api/v1/runs/"+id, token, nil, "")
		var r struct{ State, Error string }
		json.Unmarshal(body, &r)
		switch r.State {
		case "COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED":
			if r.State != "COMPLETE" {
				d.t.Logf("run %s: %s", id, r.Error)
			}
			return r.State
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatalf("run %s did not finish in %v\n%s", id, limit, d.log.String())
	return ""
}

// flow runs the flow binary.
func flow(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "flow"), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), e.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

// form is a run submission as WES clients send it: fields and attached
// files (path in the run directory, content), in order.
type form struct {
	fields [][2]string
	files  [][2]string
}

// encode writes the multipart body and returns it with its content type.
func (f form) encode() ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, kv := range f.fields {
		w.WriteField(kv[0], kv[1])
	}
	for _, kv := range f.files {
		part, _ := w.CreateFormFile("workflow_attachment", kv[0])
		part.Write([]byte(kv[1]))
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// submit posts the form to the native API and returns the new run's id.
func (d *daemon) submit(token string, f form) string {
	d.t.Helper()
	body, ctype := f.encode()
	status, resp := d.request("POST", "/api/v1/runs", token, body, ctype)
	var sub struct{ ID string }
	if json.Unmarshal(resp, &sub); status != 201 {
		d.t.Fatalf("submit: %d %s", status, resp)
	}
	return sub.ID
}
