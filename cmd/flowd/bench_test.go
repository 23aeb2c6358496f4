package main

import (
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkGetRunWith100InFlight measures GET /api/v1/runs/{id} on
// loopback while 100 runs are in flight (4 running, the rest queued), and
// reports requests per second and the 99th percentile latency.
//
//	go test -run '^$' -bench GetRun -benchtime 10s ./cmd/flowd
func BenchmarkGetRunWith100InFlight(b *testing.B) {
	cfg := filepath.Join(b.TempDir(), "flowd.yaml")
	os.WriteFile(cfg, []byte("max_running: 4\nmax_running_per_team: 4\n"), 0o600)
	d := &daemon{t: b, dataDir: filepath.Join(b.TempDir(), "data"), extra: []string{"--config", cfg, "--quiet"}}
	tok := d.token("bench", "operator")
	d.start()
	defer d.stop()
	var ids []string
	for range 100 {
		ids = append(ids, submitSleep(d, tok))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			req, _ := http.NewRequest("GET", d.url+"/api/v1/runs/"+ids[rand.IntN(len(ids))], nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Errorf("GET run: %v %v", err, resp)
				return
			}
			resp.Body.Close()
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

func submitSleep(d *daemon, token string) string {
	return d.submit(token, form{
		fields: [][2]string{{"workflow_url", "tool.cwl"}},
		files:  [][2]string{{"tool.cwl", "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sleep, '60']\ninputs: []\noutputs: []\n"}},
	})
}
