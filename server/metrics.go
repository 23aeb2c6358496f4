package server

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flow-cwl/flow/server/store"
)

// metrics counts requests for /metrics, in Prometheus's text format.
// Every label has a bounded set of values, whatever clients send: a method
// flowd does not serve, or a path no route matches, counts as "other"
// (else each made-up method or path would be a new series, kept forever),
// and a path is counted under its route's pattern, not as sent, so that
// no run ID (nor anything else a team did) shows.
var metrics = &requestMetrics{counts: map[requestKey]int64{}}

type requestKey struct{ method, route, code string }

type requestMetrics struct {
	mu      sync.Mutex
	counts  map[requestKey]int64
	seconds float64
	total   int64
}

// knownMethods are the methods flowd's routes answer.
var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "DELETE": true}

func (m *requestMetrics) observe(mux *http.ServeMux, r *http.Request, status int, took time.Duration) {
	k := requestKey{method: "other", route: "other", code: strconv.Itoa(status)}
	if knownMethods[r.Method] {
		k.method = r.Method
	}
	if _, pattern := mux.Handler(r); pattern != "" {
		_, path, _ := strings.Cut(pattern, " ") // "GET /api/v1/runs/{id}" → "/api/v1/runs/{id}"
		k.route = path
	}
	if status < 100 || status > 599 {
		k.code = "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[k]++
	m.seconds += took.Seconds()
	m.total++
}

// metrics serves the request counters and the number of runs by state.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	metrics.mu.Lock()
	keys := make([]requestKey, 0, len(metrics.counts))
	for k := range metrics.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b requestKey) int {
		return cmp.Or(strings.Compare(a.route, b.route), strings.Compare(a.method, b.method), strings.Compare(a.code, b.code))
	})
	fmt.Fprintln(w, "# HELP flowd_http_requests_total HTTP requests answered.\n# TYPE flowd_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "flowd_http_requests_total{method=%q,route=%q,code=%q} %d\n", k.method, k.route, k.code, metrics.counts[k])
	}
	fmt.Fprintf(w, "# HELP flowd_http_request_duration_seconds Time spent answering.\n# TYPE flowd_http_request_duration_seconds summary\n")
	fmt.Fprintf(w, "flowd_http_request_duration_seconds_sum %g\nflowd_http_request_duration_seconds_count %d\n", metrics.seconds, metrics.total)
	metrics.mu.Unlock()
	runs, err := s.store.Unfinished()
	if err != nil {
		return
	}
	byState := map[store.RunState]int{store.StateQueued: 0, store.StateInitializing: 0, store.StateRunning: 0, store.StateCanceling: 0}
	for _, run := range runs {
		byState[run.State]++
	}
	fmt.Fprintln(w, "# HELP flowd_runs Unfinished runs by state.\n# TYPE flowd_runs gauge")
	for _, st := range []store.RunState{store.StateQueued, store.StateInitializing, store.StateRunning, store.StateCanceling} {
		fmt.Fprintf(w, "flowd_runs{state=%q} %d\n", st, byState[st])
	}
}
