package server

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// /metrics has labels from bounded sets: made-up methods and paths count
// as "other", paths as their route's pattern; nothing a request names
// (run IDs, teams, tokens) shows, and no team is named.
func TestMetricsLabelsAreBounded(t *testing.T) {
	base, _, tokens := newTestServer(t, Config{}, "secretteam")
	tok := tokens["secretteam"]
	for _, req := range []struct{ method, path string }{
		{"BREW", "/healthz"},
		{"X-PROBE-4711", "/api/v1/runs"},
		{"GET", "/no/such/path/probe-4712"},
		{"GET", "/api/v1/runs/probe-4713"},
		{"GET", "/api/v1/runs/probe-4714/files/a/b/c"},
		{"DELETE", "/api/v1/tokens/probe-4715"},
		{"GET", "/ga4gh/wes/v1/runs/probe-4716/status"},
	} {
		call(t, req.method, base+req.path, tok, nil, "")
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, leak := range []string{"BREW", "X-PROBE", "probe-47", "secretteam", tok} {
		if strings.Contains(text, leak) {
			t.Errorf("/metrics shows %q:\n%s", leak, text)
		}
	}
	series := regexp.MustCompile(`flowd_http_requests_total\{method="([^"]*)",route="([^"]*)",code="([^"]*)"\}`)
	found := series.FindAllStringSubmatch(text, -1)
	if len(found) == 0 {
		t.Fatalf("no request counts:\n%s", text)
	}
	seen := map[string]bool{}
	for _, m := range found {
		// Other tests in this process add their routes' series too.
		method, route, code := m[1], m[2], m[3]
		if !map[string]bool{"GET": true, "HEAD": true, "POST": true, "DELETE": true, "other": true}[method] ||
			route != "other" && !regexp.MustCompile(`^(/[a-z0-9._-]+|/\{[a-z]+(\.\.\.)?\})+$`).MatchString(route) ||
			!regexp.MustCompile(`^[1-5][0-9][0-9]$`).MatchString(code) {
			t.Errorf("an unexpected series: %s", m[0])
		}
		seen["method="+method] = true
		seen["route="+route] = true
	}
	for _, want := range []string{"method=other", "route=other", "route=/api/v1/runs/{id}", "route=/api/v1/runs/{id}/files/{path...}"} {
		if !seen[want] {
			t.Errorf("no series with %s:\n%s", want, text)
		}
	}
}
