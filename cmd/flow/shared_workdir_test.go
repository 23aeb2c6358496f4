package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testcluster"
)

// A cluster that shares flow's files, where jobs could not write: one
// line before anything is submitted, saying whose directory it is and
// which user the jobs run as.
func TestSharedWorkdirPermissionSaysWhoseAndWho(t *testing.T) {
	c := testcluster.Require(t)
	me, err := user.Current()
	if err != nil || me.Username == c.SSHUser {
		t.Skipf("flow must run as another user than the cluster's %s", c.SSHUser)
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the cluster user may look, not write
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tool := filepath.Join(dir, "echo.cwl")
	writeFile(t, tool, "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [echo, hi]\ninputs: []\noutputs: []\n")
	for _, tc := range []struct {
		workdir string
		want    []string
	}{
		// The workdir's nearest existing directory is this user's.
		{filepath.Join(dir, "work"), []string{"jobs run as " + c.SSHUser, dir + " belongs to " + me.Username}},
		// The cluster user's own directory, but flow here is someone else.
		{filepath.Join(c.WorkDir, "shared-"+filepath.Base(dir)), []string{"jobs run as " + c.SSHUser, "flow runs as " + me.Username}},
	} {
		cfg := filepath.Join(dir, "clusters.yaml")
		writeFile(t, cfg, fmt.Sprintf(`clusters:
  - name: test
    host: %s
    port: %d
    username: %s
    ssh_key: {path: %s}
    known_hosts: %s
    workdir: %s
    shared_fs: true
`, c.SSHHost, c.SSHPort, c.SSHUser, c.SSHKey, c.SSHKnownHosts, tc.workdir))
		r := flow(t, "run", "--quiet", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg,
			"--outdir", filepath.Join(dir, "out"), tool)
		lines := stderrLines(r.stderr)
		ok := r.code != 0 && len(lines) == 1
		for _, w := range tc.want {
			ok = ok && strings.Contains(lines[0], w)
		}
		if !ok {
			t.Errorf("workdir %s: exit %d, stderr %q; want one line saying %q", tc.workdir, r.code, r.stderr, tc.want)
		}
	}
}
