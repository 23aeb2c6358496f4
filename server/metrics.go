package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flow-cwl/flow/server/store"
)

// metrics counts requests for /metrics, in Prometheus's text format.
var metrics = &requestMetrics{counts: map[[2]string]int64{}}

type requestMetrics struct {
	mu      sync.Mutex
	counts  map[[2]string]int64 // method, status → requests
	seconds float64
	total   int64
}

func (m *requestMetrics) observe(r *http.Request, status int, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[[2]string{r.Method, fmt.Sprint(status)}]++
	m.seconds += took.Seconds()
	m.total++
}

// metrics serves the request counters and the number of runs by state.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	metrics.mu.Lock()
	keys := make([][2]string, 0, len(metrics.counts))
	for k := range metrics.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if a[0] != b[0] {
			return strings.Compare(a[0], b[0])
		}
		return strings.Compare(a[1], b[1])
	})
	fmt.Fprintln(w, "# HELP flowd_http_requests_total HTTP requests answered.\n# TYPE flowd_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "flowd_http_requests_total{method=%q,code=%q} %d\n", k[0], k[1], metrics.counts[k])
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
