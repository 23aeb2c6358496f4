package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RunWithBinaries is a TestMain for tests that run flow's commands as a
// user would: it builds each package (binary name → import path) into
// one fresh directory, where flowd also finds flow beside it, points
// XDG_DATA_HOME there so that no record reaches the user's, runs the
// tests with that directory, removes it and exits.
func RunWithBinaries(m *testing.M, pkgs map[string]string, run func(binDir string) int) {
	dir, err := os.MkdirTemp("", "flow-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	for name, pkg := range pkgs {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "cannot build %s: %v\n", name, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := run(dir)
	os.RemoveAll(dir)
	os.Exit(code)
}
