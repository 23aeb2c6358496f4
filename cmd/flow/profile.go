package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// startCPUProfile writes a CPU profile of the whole process (pprof's
// format, read with `go tool pprof`) to the file FLOW_CPU_PROFILE names,
// for finding where a run's time goes; without it, it does nothing. The
// returned function ends the profile and must run before the process
// exits.
func startCPUProfile(stderr io.Writer) (stop func()) {
	path := os.Getenv("FLOW_CPU_PROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "flow: FLOW_CPU_PROFILE: cannot profile to %s: %v\n", path, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "flow: FLOW_CPU_PROFILE: cannot write %s: %v\n", path, err)
		}
	}
}
