// Package gctune sets Go's garbage collector for the way flow works.
//
// A run keeps little in memory (a few megabytes for thousands of jobs)
// while it allocates briskly: records, JSON, paths for every job. With
// Go's defaults the collector runs each time 4 MB have been allocated,
// some seventy times in a 1,000-job scatter, and each cycle takes processor
// time from the goroutines starting jobs. Start lets the heap grow to five
// times what is live (GOGC=400), with a soft limit that keeps a small heap
// small; once the live heap outgrows that limit's share, the defaults come
// back, so a very large run is never held to a limit it cannot meet.
//
// Setting GOGC or GOMEMLIMIT in the environment turns all of this off.
package gctune

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

const (
	smallPercent = 400
	softLimit    = 96 << 20 // bytes of Go memory while the heap is small
	smallHeap    = softLimit / 4
)

// Start tunes the collector for the rest of the process, unless the
// environment already does.
func Start() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(smallPercent)
	debug.SetMemoryLimit(softLimit)
	watch()
}

// watch checks the live heap after each collection, through a cleanup on
// an object that only the collector frees, and renews itself until the
// heap has grown past smallHeap.
func watch() {
	canary := new([64]byte) // big enough to be an object of its own
	runtime.AddCleanup(canary, func(struct{}) {
		if liveHeap() > smallHeap {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			return
		}
		watch()
	}, struct{}{})
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
