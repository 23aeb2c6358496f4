package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// A revoked token's open event streams close: per run and per team,
// whether the token came in the header or in ?access_token=.
func TestRevokedTokenClosesItsStreams(t *testing.T) {
	d := newDaemon(t)
	admin := d.token("genomics", "admin")
	operator := d.token("genomics", "operator")
	d.start()
	status, resp := d.request("POST", "/api/v1/tokens", admin, []byte(`{"name":"watcher","role":"viewer"}`), "application/json")
	var nt struct {
		Token  struct{ ID string }
		Secret string
	}
	if json.Unmarshal(resp, &nt); status != 201 || nt.Secret == "" {
		t.Fatalf("creating a token: %d %s", status, resp)
	}
	// A run that outlasts the test, so that its stream cannot end because
	// the run did.
	body, ctype := form{
		fields: [][2]string{{"workflow_url", "tool.cwl"}},
		files:  [][2]string{{"tool.cwl", "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sleep, '120']\ninputs: []\noutputs: []\n"}},
	}.encode()
	status, resp = d.request("POST", "/api/v1/runs", operator, body, ctype)
	var sub struct{ ID string }
	if json.Unmarshal(resp, &sub); status != 201 {
		t.Fatalf("submit: %d %s", status, resp)
	}
	streams := map[string]*http.Request{}
	for _, s := range []struct{ what, path, query string }{
		{"team stream", "/api/v1/events", ""},
		{"run stream", "/api/v1/runs/" + sub.ID + "/events", ""},
		{"team stream, ?access_token=", "/api/v1/events", "?access_token=" + nt.Secret},
		{"run stream, ?access_token=", "/api/v1/runs/" + sub.ID + "/events", "?access_token=" + nt.Secret},
	} {
		req, _ := http.NewRequest("GET", d.url+s.path+s.query, nil)
		if s.query == "" {
			req.Header.Set("Authorization", "Bearer "+nt.Secret)
		}
		streams[s.what] = req
	}
	ended := map[string]chan time.Time{}
	for what, req := range streams {
		r, err := http.DefaultClient.Do(req)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("%s: %v %v", what, err, r)
		}
		ended[what] = make(chan time.Time, 1)
		go func() {
			defer r.Body.Close()
			io.Copy(io.Discard, r.Body)
			ended[what] <- time.Now()
		}()
	}
	revokedAt := time.Now()
	if status, resp := d.request("DELETE", "/api/v1/tokens/"+nt.Token.ID, admin, nil, ""); status != 204 {
		t.Fatalf("revoking: %d %s", status, resp)
	}
	deadline := revokedAt.Add(15 * time.Second) // the requirement is 5 s; generous for a loaded machine
	for what, ch := range ended {
		select {
		case at := <-ch:
			t.Logf("%s closed %v after the revocation", what, at.Sub(revokedAt))
		case <-time.After(time.Until(deadline)):
			t.Errorf("%s is still open 15 s after its token was revoked", what)
		}
	}
}

// ?access_token= is for event streams alone (browsers' EventSource cannot
// set headers); everywhere else a token in the URL is refused, so that
// tokens do not end up in histories and proxies' logs.
func TestAccessTokenOnlyOnEventStreams(t *testing.T) {
	d := newDaemon(t)
	admin := d.token("genomics", "admin")
	d.start()
	for _, path := range []string{"/api/v1/runs", "/api/v1/tokens", "/api/v1/workflows", "/ga4gh/wes/v1/runs", "/ga4gh/wes/v1/service-info"} {
		if status, resp := d.request("GET", path+"?access_token="+admin, "", nil, ""); status != http.StatusUnauthorized {
			t.Errorf("%s?access_token=: %d %s", path, status, resp)
		}
	}
	if status, resp := d.request("POST", "/api/v1/tokens?access_token="+admin, "", []byte(`{"role":"admin"}`), "application/json"); status != http.StatusUnauthorized {
		t.Errorf("making a token with ?access_token=: %d %s", status, resp)
	}
	r, err := http.Get(d.url + "/api/v1/events?access_token=" + admin)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("the team's event stream with ?access_token=: %v %v", err, r)
	}
	r.Body.Close()
}
