package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// submitBody is a minimal valid submission, plus an extra attachment
// named name.
func submitBody(name string) ([]byte, string) {
	f := form{
		fields: [][2]string{{"workflow_url", "tool.cwl"}, {"workflow_params", `{}`}},
		files:  [][2]string{{"tool.cwl", "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sleep, '2']\ninputs: []\noutputs: []\n"}},
	}
	if name != "" {
		f.files = append(f.files, [2]string{name, "escaped"})
	}
	return f.encode()
}

func TestSecurity(t *testing.T) {
	d := newDaemon(t)
	admin := d.token("genomics", "admin")
	operator := d.token("genomics", "operator")
	viewer := d.token("genomics", "viewer")
	other := d.token("imaging", "admin")
	d.start()
	body, ctype := submitBody("")

	expect := func(what string, want int, method, path, token string, body []byte, ctype string) []byte {
		t.Helper()
		got, resp := d.request(method, path, token, body, ctype)
		if got != want {
			t.Errorf("%s: %d, want %d: %s", what, got, want, resp)
		}
		return resp
	}
	expect("no token", 401, "GET", "/api/v1/runs", "", nil, "")
	expect("a wrong token", 401, "GET", "/api/v1/runs", "flowd_not-a-token", nil, "")
	expect("no token on WES", 401, "GET", "/ga4gh/wes/v1/runs", "", nil, "")
	expect("a viewer submits", 403, "POST", "/api/v1/runs", viewer, body, ctype)

	resp := expect("an operator submits", 201, "POST", "/api/v1/runs", operator, body, ctype)
	var sub struct{ ID string }
	json.Unmarshal(resp, &sub)
	expect("a viewer reads", 200, "GET", "/api/v1/runs/"+sub.ID, viewer, nil, "")
	expect("a viewer cancels", 403, "POST", "/api/v1/runs/"+sub.ID+"/cancel", viewer, nil, "")
	for _, path := range []string{"", "/events", "/files", "/files/x", "/steps", "/logs/main", "/provenance"} {
		expect("another team reads "+path, 404, "GET", "/api/v1/runs/"+sub.ID+path, other, nil, "")
	}
	expect("another team cancels", 404, "POST", "/api/v1/runs/"+sub.ID+"/cancel", other, nil, "")
	expect("another team on WES", 404, "GET", "/ga4gh/wes/v1/runs/"+sub.ID, other, nil, "")
	if _, list := d.request("GET", "/api/v1/runs", other, nil, ""); strings.Contains(string(list), sub.ID) {
		t.Error("another team's listing shows the run")
	}
	expect("an operator cancels", 202, "POST", "/api/v1/runs/"+sub.ID+"/cancel", operator, nil, "")

	for _, bad := range []string{"../escape.txt", "a/../../escape.txt", "/etc/escape.txt", "outputs/x"} {
		body, ctype := submitBody(bad)
		expect("attachment "+bad, 400, "POST", "/api/v1/runs", operator, body, ctype)
	}
	if matches, _ := filepath.Glob(filepath.Join(d.dataDir, "..", "escape.txt")); len(matches) > 0 {
		t.Error("an attachment was written outside its run directory")
	}
	if entries, _ := os.ReadDir(filepath.Join(d.dataDir, "teams", "genomics", "runs")); len(entries) != 1 {
		t.Errorf("refused submissions left %d run directories", len(entries)-1)
	}

	keyResp := expect("an admin makes an SSH key", 201, "POST", "/api/v1/ssh-keys", admin, []byte(`{"name":"hpc1"}`), "application/json")
	if !bytes.Contains(keyResp, []byte("ssh-ed25519 ")) || bytes.Contains(keyResp, []byte("PRIVATE")) {
		t.Errorf("the SSH key answer: %s", keyResp)
	}
	expect("an operator makes an SSH key", 403, "POST", "/api/v1/ssh-keys", operator, []byte(`{}`), "application/json")
	newTok := expect("an admin makes a token", 201, "POST", "/api/v1/tokens", admin, []byte(`{"name":"ci","role":"viewer"}`), "application/json")
	var nt struct{ Secret string }
	json.Unmarshal(newTok, &nt)
	expect("the new token works", 200, "GET", "/api/v1/runs", nt.Secret, nil, "")
	// A browser's event stream carries the token in the query.
	req, _ := http.NewRequest("GET", d.url+"/api/v1/runs/"+sub.ID+"/events?access_token="+viewer, nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Errorf("events with ?access_token: %v %v", err, r)
	} else {
		r.Body.Close()
	}

	d.stop()
	db, err := os.ReadFile(filepath.Join(d.dataDir, "flowd.db"))
	if err != nil {
		t.Fatal(err)
	}
	logText := d.log.String()
	for _, secret := range []string{admin, operator, viewer, other, nt.Secret} {
		if bytes.Contains(db, []byte(secret)) {
			t.Error("a token is in the database in clear")
		}
		if strings.Contains(logText, secret) {
			t.Error("a token is in the daemon's log")
		}
	}
	for _, s := range []string{"PRIVATE KEY", "openssh-key-v1", "b3BlbnNzaC1rZXktdjE"} {
		if bytes.Contains(db, []byte(s)) || strings.Contains(logText, s) {
			t.Errorf("%q is in the database or the log in clear", s)
		}
	}
}
