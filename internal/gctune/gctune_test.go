package gctune

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// A small heap runs with the roomy setting; once the live heap is large,
// flow goes back to Go's defaults rather than staying under a limit that
// would make the collector run without end.
func TestLargeHeapRestoresTheDefaults(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))

	Start()
	if p, limit := gcPercent(), memoryLimit(); p != smallPercent || limit != softLimit {
		t.Fatalf("after Start: GOGC %d, memory limit %d; want %d and %d", p, limit, smallPercent, softLimit)
	}
	runtime.GC()
	if p := gcPercent(); p != smallPercent {
		t.Fatalf("a small heap changed GOGC to %d", p)
	}

	live := make([][]byte, 0, 64)
	for i := 0; i < 64; i++ { // 64 MiB, well past smallHeap
		live = append(live, make([]byte, 1<<20))
	}
	deadline := time.Now().Add(10 * time.Second)
	for gcPercent() != 100 {
		if time.Now().After(deadline) {
			t.Fatalf("with %d MiB live, GOGC is still %d", len(live), gcPercent())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if limit := memoryLimit(); limit != math.MaxInt64 {
		t.Errorf("memory limit with a large heap = %d, want none", limit)
	}
	runtime.KeepAlive(live)
}

// The environment wins.
func TestEnvironmentTurnsItOff(t *testing.T) {
	t.Setenv("GOGC", "100")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	Start()
	if p := gcPercent(); p != 100 {
		t.Errorf("with GOGC=100 set, Start changed GOGC to %d", p)
	}
}

func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

func memoryLimit() int64 {
	s := []metrics.Sample{{Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
