package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/flow-cwl/flow/server/store"
)

// agentFor makes a daemon whose team "lab" has a key for cluster "hpc1",
// and the agent a run of lab on hpc1 would get.
func agentFor(t *testing.T) (*Server, *runAgent) {
	t.Helper()
	dataDir := t.TempDir()
	clustersFile := filepath.Join(t.TempDir(), "clusters.yaml")
	if err := os.WriteFile(clustersFile, []byte("clusters:\n  - {name: hpc1, host: login.example.org, username: lab, ssh_key: {agent: true}, known_hosts: /dev/null, workdir: /scratch/lab}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{DataDir: dataDir, Flow: flowBin, ComputeConfig: clustersFile, Log: zerolog.Nop(), Isolation: IsolationNone})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.store.GenerateSSHKey("lab", "hpc1"); err != nil {
		t.Fatal(err)
	}
	ra, err := s.clusterAccess(&store.Run{ID: "r1", Team: "lab", Dir: filepath.Join(dataDir, "teams", "lab", "runs", "r1")}, "hpc1")
	if err != nil || ra == nil {
		t.Fatalf("clusterAccess: %v %v", ra, err)
	}
	t.Cleanup(ra.close)
	return s, ra
}

// dialAgent connects to the agent from this process.
func dialAgent(t *testing.T, ra *runAgent) agent.ExtendedAgent {
	t.Helper()
	conn, err := net.Dial("unix", ra.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return agent.NewClient(conn)
}

// The agent's socket is in the daemon's private directory, under a name
// nobody can guess, outside every team's directory.
func TestAgentSocketIsPrivate(t *testing.T) {
	s, ra := agentFor(t)
	if filepath.Dir(ra.socket) != filepath.Join(s.cfg.DataDir, "agents") {
		t.Errorf("the socket %s is not in data_dir/agents", ra.socket)
	}
	if strings.Contains(ra.socket, "teams") || strings.Contains(ra.socket, "r1") {
		t.Errorf("the socket %s is named after the run or lies in a team's directory", ra.socket)
	}
	fi, err := os.Stat(filepath.Dir(ra.socket))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the agents' directory: %v %v", fi.Mode(), err)
	}
	_, ra2 := agentFor(t)
	if filepath.Base(ra.socket) == filepath.Base(ra2.socket) {
		t.Error("two agents have the same socket name")
	}
}

// The agent answers only the process it was given: not before, not
// another process of the same user.
func TestAgentServesOnlyItsRunsProcess(t *testing.T) {
	_, ra := agentFor(t)
	if _, err := dialAgent(t, ra).List(); err == nil {
		t.Error("the agent answered before the run's process was started")
	}

	// Another process of the same user (this test's binary again), while
	// the agent belongs to this one.
	ra.allow(os.Getpid())
	cmd := exec.Command(os.Args[0], "-test.run=^TestAgentClientProcess$")
	cmd.Env = append(os.Environ(), "FLOW_TEST_AGENT_SOCKET="+ra.socket)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "agent: ") {
		t.Fatalf("the other process did not report: %v %s", err, out)
	}
	if !strings.Contains(string(out), "agent: refused") {
		t.Errorf("another process of the same user used the agent: %s", out)
	}
	keys, err := dialAgent(t, ra).List()
	if err != nil || len(keys) != 1 {
		t.Fatalf("the run's own process: %v %v", keys, err)
	}

	// The same process, once the agent is given to another pid.
	ra.allow(os.Getpid() + 1)
	if _, err := dialAgent(t, ra).List(); err == nil {
		t.Error("the agent answered a process other than its run's")
	}
}

// TestAgentClientProcess is the other process of
// TestAgentServesOnlyItsRunsProcess: it asks the agent at
// $FLOW_TEST_AGENT_SOCKET for its keys and says what it got.
func TestAgentClientProcess(t *testing.T) {
	sock := os.Getenv("FLOW_TEST_AGENT_SOCKET")
	if sock == "" {
		t.Skip("run by TestAgentServesOnlyItsRunsProcess")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if keys, err := agent.NewClient(conn).List(); err != nil {
		fmt.Println("agent: refused:", err)
	} else {
		fmt.Println("agent: listed", len(keys), "keys")
	}
}

// The agent signs with the team's key and does nothing else: no key can
// be added (and used to log in), removed, locked away or exported.
func TestAgentOnlyListsAndSigns(t *testing.T) {
	_, ra := agentFor(t)
	ra.allow(os.Getpid())
	ag := dialAgent(t, ra)
	keys, err := ag.List()
	if err != nil || len(keys) != 1 {
		t.Fatalf("list: %v %v", keys, err)
	}
	sig, err := ag.Sign(keys[0], []byte("challenge"))
	if err != nil || keys[0].Verify([]byte("challenge"), sig) != nil {
		t.Fatalf("sign: %v", err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	if err := ag.Add(agent.AddedKey{PrivateKey: priv}); err == nil {
		t.Error("a key was added")
	}
	if err := ag.Remove(keys[0]); err == nil {
		t.Error("the key was removed")
	}
	if err := ag.RemoveAll(); err == nil {
		t.Error("all keys were removed")
	}
	if err := ag.Lock([]byte("pw")); err == nil {
		t.Error("the agent was locked")
	}
	if err := ag.Unlock([]byte("pw")); err == nil {
		t.Error("the agent was unlocked")
	}
	if _, err := ag.Extension("session-bind@openssh.com", nil); err == nil {
		t.Error("an extension was served")
	}
	if after, err := ag.List(); err != nil || len(after) != 1 || string(after[0].Blob) != string(keys[0].Blob) {
		t.Errorf("the agent's keys changed: %v %v", after, err)
	}
	// Signers is the agent's export path inside this process: refused too.
	if _, err := (signOnly{}).Signers(); err == nil {
		t.Error("signOnly exported signers")
	}
	pub, _ := ssh.NewPublicKey(priv.Public())
	if _, err := ag.Sign(pub, []byte("x")); err == nil {
		t.Error("the agent signed with a key it does not hold")
	}
}

// What a killed daemon's agents left is gone when the next one starts.
func TestStaleAgentsGoAtStart(t *testing.T) {
	s, ra := agentFor(t)
	dir := s.cfg.DataDir
	s.Close()
	// A killed daemon leaves its agents' files: the run's clusters file,
	// and a socket file (a listener closed in an orderly way removes its own).
	if _, err := os.Stat(ra.config); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "agents", "0123.sock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := New(Config{DataDir: dir, Flow: flowBin, Log: zerolog.Nop(), Isolation: IsolationNone})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if left, _ := os.ReadDir(filepath.Join(dir, "agents")); len(left) > 0 {
		t.Errorf("left in data_dir/agents: %v", left)
	}
}
