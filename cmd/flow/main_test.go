package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// flowBin is the flow binary, built once by TestMain for the tests that
// run flow as a user would.
var flowBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flow-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The binary records provenance under the data directory: keep the
	// tests' records out of the user's.
	os.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	flowBin = filepath.Join(dir, "flow")
	build := exec.Command("go", "build", "-o", flowBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "cannot build flow:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the flow binary did.
type result struct {
	code           int
	stdout, stderr string
}

// flow runs the binary in this package's directory.
func flow(t *testing.T, args ...string) result {
	t.Helper()
	return flowEnv(t, nil, args...)
}

// stderrLines splits stderr into its non-empty lines.
func stderrLines(s string) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
