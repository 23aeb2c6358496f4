package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/testcluster"
)

// sshConfig writes a compute configuration reaching the test cluster over
// its sshd, as root, with the workdir shared.
func sshConfig(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "clusters.yaml")
	text := fmt.Sprintf(`clusters:
  - name: test
    host: %s
    port: %d
    username: root
    ssh_key: {path: %s}
    known_hosts: %s
    workdir: %s
    shared_fs: true
`, c.SSHHost, c.SSHPort, c.SSHKey, c.SSHKnownHosts, filepath.Join(dir, "work"))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dropSSH kills the test cluster's sshd and every connection it serves,
// as a network failure would, then starts it again.
func dropSSH(t *testing.T) {
	t.Helper()
	dir := os.Getenv("FLOW_TESTCLUSTER_DIR")
	if dir == "" {
		dir = "/tmp/flow-testcluster"
	}
	data, err := os.ReadFile(filepath.Join(dir, "run", "sshd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	exec.Command("pkill", "-KILL", "-P", strconv.Itoa(pid)).Run() // the connections
	syscall.Kill(pid, syscall.SIGKILL)                            // the listener
	time.Sleep(500 * time.Millisecond)
	if out, err := exec.Command("bash", "../../scripts/testcluster", "up").CombinedOutput(); err != nil {
		t.Fatalf("cannot start sshd again: %v: %s", err, out)
	}
}

// The SSH connection to the cluster drops in the middle of a run: flow
// reconnects and the run completes.
func TestRunSurvivesSSHDrop(t *testing.T) {
	c := testcluster.Require(t)
	cfg := sshConfig(t, c)
	dir := t.TempDir()
	wf := filepath.Join(dir, "two.cwl")
	os.WriteFile(wf, []byte(`cwlVersion: v1.2
class: Workflow
inputs: []
outputs: {b: {type: File, outputSource: b/out}}
steps:
  a:
    run: {class: CommandLineTool, baseCommand: [sh, -c, 'sleep 3; echo a > a.txt'], inputs: [], outputs: {out: {type: File, outputBinding: {glob: a.txt}}}}
    in: {}
    out: [out]
  b:
    run: {class: CommandLineTool, baseCommand: [sh, -c, 'cat "$0" > b.txt; echo b >> b.txt'], inputs: {in: {type: File, inputBinding: {}}}, outputs: {out: {type: File, outputBinding: {glob: b.txt}}}}
    in: {in: a/out}
    out: [out]
`), 0o644)
	db := filepath.Join(dir, "flow.db")
	cmd := exec.Command(flowBin, "run", "--quiet", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--db", db, "--outdir", filepath.Join(dir, "out"), wf)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForSubmittedJob(t, db)
	dropSSH(t)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the run failed after the SSH connection dropped: %v: %s", err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the run did not finish after the SSH connection dropped")
	}
	if out, _ := os.ReadFile(filepath.Join(dir, "out", "b.txt")); string(out) != "a\nb\n" {
		t.Errorf("the run's output is %q", out)
	}
}
