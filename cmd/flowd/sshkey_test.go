package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testcluster"
)

// A run on a cluster logs in with the key its team generated for that
// cluster: the daemon hands it over from memory (an agent), and a team
// without such a key cannot log in.
func TestTeamKeyLogsIntoTheCluster(t *testing.T) {
	c := testcluster.Require(t)
	cfgDir := t.TempDir()
	clustersFile := filepath.Join(cfgDir, "clusters.yaml")
	workdir := filepath.Join(c.WorkDir, fmt.Sprint("flowd-", os.Getpid()))
	t.Cleanup(func() { os.RemoveAll(workdir) })
	os.WriteFile(clustersFile, []byte(fmt.Sprintf(`clusters:
  - name: test
    host: %s
    port: %d
    username: %s
    ssh_key: {agent: true}
    known_hosts: %s
    workdir: %s
    shared_fs: false
`, c.SSHHost, c.SSHPort, c.SSHUser, c.SSHKnownHosts, workdir)), 0o600)
	daemonCfg := filepath.Join(cfgDir, "flowd.yaml")
	os.WriteFile(daemonCfg, []byte("clusters: "+clustersFile+"\n"), 0o600)
	d := newDaemon(t, "--config", daemonCfg)
	admin := d.token("genomics", "admin")
	stranger := d.token("imaging", "admin")
	d.start()

	status, resp := d.request("POST", "/api/v1/ssh-keys", admin, []byte(`{"name":"test"}`), "application/json")
	var key struct {
		PublicKey string `json:"public_key"`
	}
	if json.Unmarshal(resp, &key); status != 201 || key.PublicKey == "" {
		t.Fatalf("ssh-keys: %d %s", status, resp)
	}
	authorize(t, filepath.Join(filepath.Dir(c.SSHKey), "authorized_keys"), key.PublicKey)

	run := func(token string) (int, string) {
		code, _, stderr := flow(t, nil, "run", "--run_compute", "--cluster", "test", "--compute_url", d.url,
			"--compute_access_token", token, "--outdir", t.TempDir(), exampleWorkflow, exampleInputs)
		return code, stderr
	}
	if code, stderr := run(admin); code != 0 {
		t.Fatalf("the team with a key: exit %d: %s\n%s", code, stderr, d.log.String())
	}
	// The daemon's clusters file names no key of its own: without the
	// team's, there is nothing to log in with.
	if code, stderr := run(stranger); code == 0 || !strings.Contains(stderr, "no SSH key to log in") {
		t.Errorf("a team without a key for the cluster: exit %d: %s", code, stderr)
	}
	if strings.Contains(d.log.String(), "PRIVATE KEY") {
		t.Error("the private key reached the log")
	}
	if left, err := os.ReadDir(filepath.Join(d.dataDir, "agents")); err != nil || len(left) > 0 {
		t.Errorf("agent sockets or their clusters files outlive their runs: %v %v", left, err)
	}
	if matches, _ := filepath.Glob(filepath.Join(d.dataDir, "teams", "*", "runs", "*", ".ssh-agent")); len(matches) > 0 {
		t.Errorf("an agent socket is in a run directory: %v", matches)
	}
}

// authorize lets the key log in to the test cluster for this test.
func authorize(t *testing.T, file, pub string) {
	t.Helper()
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append(append([]byte{}, old...), []byte(pub+"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(file, old, 0o644) })
}
