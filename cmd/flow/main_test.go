package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// flowBin is the flow binary, built once by TestMain for the tests that
// run flow as a user would.
var flowBin string

func TestMain(m *testing.M) {
	testenv.RunWithBinaries(m, map[string]string{"flow": "."}, func(dir string) int {
		flowBin = filepath.Join(dir, "flow")
		return m.Run()
	})
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
