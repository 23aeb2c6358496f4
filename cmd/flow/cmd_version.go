package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at link time for releases:
// go build -ldflags "-X main.version=v1.2.3" ./cmd/flow
var version = ""

// cmdVersion prints flow's version, the CWL version it runs and the Go
// version it was built with.
func cmdVersion(w io.Writer) error {
	_, err := fmt.Fprintf(w, "flow %s (CWL v1.2, %s %s/%s)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

// buildVersion is the link-time version, else the module version, else
// the VCS revision Go recorded, else "devel".
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
