package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/clusters"
	"github.com/flow-cwl/flow/internal/testcluster"
)

// freePort returns a local port nothing listens on.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func scontrol(t *testing.T, c *testcluster.Cluster, args ...string) {
	t.Helper()
	cmd := exec.Command("scontrol", args...)
	cmd.Env = append(os.Environ(), c.SlurmEnv()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scontrol %v: %v: %s", args, err, out)
	}
}

// flow clusters status shows the test cluster's partitions, one that is
// down, the same cluster over SSH, and a host that does not answer.
func TestClustersStatus(t *testing.T) {
	c := testcluster.Require(t)
	scontrol(t, c, "create", "PartitionName=flowdown", "Nodes=localhost", "State=DOWN")
	t.Cleanup(func() { scontrol(t, c, "delete", "PartitionName=flowdown") })
	cfg := filepath.Join(t.TempDir(), "clusters.yaml")
	text := fmt.Sprintf(`clusters:
  - {name: here, host: localhost, ssh: false, workdir: %[1]s, env: {SLURM_CONF: %[2]s}}
  - name: viassh
    host: %[3]s
    port: %[4]d
    username: %[5]s
    ssh_key: {path: %[6]s}
    known_hosts: %[7]s
    workdir: %[1]s
  - name: gone
    host: 127.0.0.1
    port: %[8]d
    username: nobody
    ssh_key: {path: %[6]s}
    known_hosts: %[7]s
    workdir: /scratch
`, c.WorkDir, c.SlurmConf, c.SSHHost, c.SSHPort, c.SSHUser, c.SSHKey, c.SSHKnownHosts, freePort(t))
	os.WriteFile(cfg, []byte(text), 0o600)

	r := flow(t, "clusters", "status", "--compute-config", cfg, "-o", "json")
	if r.code != 0 {
		t.Fatalf("flow clusters status: exit %d: %s", r.code, r.stderr)
	}
	var sts []clusters.Status
	if err := json.Unmarshal([]byte(r.stdout), &sts); err != nil || len(sts) != 3 {
		t.Fatalf("status JSON: %v\n%s", err, r.stdout)
	}
	for _, s := range sts[:2] {
		parts := map[string]clusters.Partition{}
		for _, p := range s.Partitions {
			parts[p.Name] = p
		}
		if !s.Reachable || !parts["debug"].Up || parts["flowdown"].Up || parts["flowdown"].Avail != "down" || s.FreeBytes <= 0 {
			t.Errorf("%s: want reachable, debug up, flowdown down, free space: %+v", s.Name, s)
		}
	}
	if gone := sts[2]; gone.Reachable || !strings.Contains(gone.Error, "refused") {
		t.Errorf("an unreachable host should say so: %+v", gone)
	}
	table := flow(t, "clusters", "status", "--compute-config", cfg).stdout
	goneRow := ""
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, "gone ") {
			goneRow = l
		}
	}
	if !strings.Contains(table, "flowdown DOWN") || len(strings.Fields(goneRow)) < 2 || strings.Fields(goneRow)[1] != "no" {
		t.Errorf("the table does not show the down partition or the unreachable host:\n%s", table)
	}
}
