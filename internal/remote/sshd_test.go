package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// This file is the harness every integration test uses: a private OpenSSH
// server on a free loopback port, with its own host key, authorized_keys and
// known_hosts in t.TempDir(), logging in as testUser. Nothing outside that
// directory is touched except /run/sshd, the privilege separation
// directory sshd insists on, and testUser's account and home.

// testUser is the account the tests log in as: a system account made for
// them, whose home holds nothing but what they write, so that no one's
// shell startup files (a ~/.bashrc that blocks, prints or exits) change
// what the tests see. It is made, and its home emptied, once per process.
const testUser = "flow-remote-test"

const testUserHome = "/var/lib/flow-remote-test"

var (
	testUserOnce     sync.Once
	testUID, testGID int
	testUserErr      error
)

func ensureTestUser() error {
	testUserOnce.Do(func() {
		if exec.Command("id", "-u", testUser).Run() != nil {
			out, err := exec.Command("useradd", "--system", "--shell", "/bin/bash", "--home-dir", testUserHome, "--no-create-home", testUser).CombinedOutput()
			if err != nil {
				testUserErr = fmt.Errorf("cannot create the test user %s: %v: %s", testUser, err, strings.TrimSpace(string(out)))
				return
			}
		}
		// "*": no password, but not locked, so OpenSSH accepts key logins.
		if out, err := exec.Command("usermod", "-p", "*", testUser).CombinedOutput(); err != nil {
			testUserErr = fmt.Errorf("cannot unlock the test user %s: %v: %s", testUser, err, strings.TrimSpace(string(out)))
			return
		}
		for _, id := range []struct {
			flag string
			to   *int
		}{{"-u", &testUID}, {"-g", &testGID}} {
			out, err := exec.Command("id", id.flag, testUser).Output()
			if err == nil {
				*id.to, err = strconv.Atoi(strings.TrimSpace(string(out)))
			}
			if err != nil {
				testUserErr = fmt.Errorf("cannot read the test user's ids: %v", err)
				return
			}
		}
		if err := os.RemoveAll(testUserHome); err != nil {
			testUserErr = err
			return
		}
		if err := os.MkdirAll(testUserHome, 0o755); err != nil {
			testUserErr = err
			return
		}
		testUserErr = os.Chown(testUserHome, testUID, testGID)
	})
	return testUserErr
}

// shareDir lets the test user into dir, made by t.TempDir(): its parent
// is private to root.
func shareDir(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// remoteDir is a new directory the test user owns: where tests have the
// "remote" side write.
func (s *testServer) remoteDir() string {
	s.t.Helper()
	d := s.t.TempDir()
	shareDir(s.t, d)
	if err := os.Chown(d, testUID, testGID); err != nil {
		s.t.Fatal(err)
	}
	return d
}

// needIntegration skips the test, or fails it when FLOW_REQUIRE_INTEGRATION=1
// (as CI sets it), so that a missing sshd never passes CI silently.
func needIntegration(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("FLOW_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("integration test cannot run: %s", msg)
	}
	t.Skipf("skipping integration test: %s (set FLOW_REQUIRE_INTEGRATION=1 to fail instead)", msg)
}

type testServer struct {
	t          *testing.T
	dir        string
	port       int
	config     string
	hostKey    ssh.PublicKey
	clientKey  string // private key file authorized on the server
	knownHosts string // known_hosts holding hostKey
	sshd       string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	return startServerWith(t, "")
}

// startServerWith starts a server with extra lines in its sshd_config.
func startServerWith(t *testing.T, extra string) *testServer {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
	}
	if _, err := os.Stat(sshd); err != nil {
		needIntegration(t, "no sshd (apt-get install openssh-server)")
	}
	if os.Geteuid() != 0 {
		needIntegration(t, "the test sshd logs in as a test user it makes, and must run as root")
	}
	if err := ensureTestUser(); err != nil {
		needIntegration(t, "%v", err)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		needIntegration(t, "cannot create /run/sshd: %v", err)
	}
	s := &testServer{t: t, dir: t.TempDir(), port: freePort(t)}
	shareDir(t, s.dir) // sshd reads authorized_keys as the user
	hostPriv := writeKey(t, filepath.Join(s.dir, "host_key"), nil)
	s.hostKey = hostPriv.PublicKey()
	s.clientKey = filepath.Join(s.dir, "id_client")
	s.authorize(writeKey(t, s.clientKey, nil).PublicKey())
	s.knownHosts = filepath.Join(s.dir, "known_hosts")
	s.writeKnownHosts(s.knownHosts, s.hostKey)
	s.config = filepath.Join(s.dir, "sshd_config")
	conf := fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s
PidFile none
AuthorizedKeysFile %s
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp internal-sftp
LogLevel VERBOSE
AllowUsers %s
# bash reads ~/.bashrc for an ssh command unless SHLVL says it is
# nested: the test user's home is empty, and this keeps any system-wide
# bashrc out as well.
SetEnv SHLVL=1
%s
`, s.port, filepath.Join(s.dir, "host_key"), filepath.Join(s.dir, "authorized_keys"), testUser, extra)
	writeFile(t, s.config, conf, 0o600)
	s.sshd = sshd
	t.Cleanup(s.stop)
	if err := s.start(sshd); err != nil {
		needIntegration(t, "%v", err)
	}
	return s
}

// start runs sshd in the foreground and waits until it greets. It may run
// on any goroutine, so it returns errors instead of failing the test.
func (s *testServer) start(sshd string) error {
	cmd := exec.Command(sshd, "-D", "-e", "-f", s.config)
	cmd.Stderr = &testLogWriter{t: s.t, prefix: "sshd: "}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start sshd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if greets(s.addr()) {
			return nil
		}
		select {
		case <-exited:
			return errors.New("sshd exited at start (see its log above)")
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return fmt.Errorf("sshd did not answer on %s", s.addr())
}

// restart starts sshd again on the same port with the same host key.
func (s *testServer) restart() error {
	return s.start(s.sshd)
}

// stop kills this sshd and every process it started (per-connection
// children and the shells they run), which is what a crashed login node
// looks like to the client.
func (s *testServer) stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	signalTree(cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// signalTree signals sshd and every process below it.
func (s *testServer) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	signalTree(s.cmd.Process.Pid, sig)
}

func signalTree(pid int, sig syscall.Signal) {
	for _, p := range descendants(pid) {
		_ = syscall.Kill(p, sig)
	}
	_ = syscall.Kill(pid, sig)
}

func (s *testServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *testServer) authorize(pub ssh.PublicKey) {
	f, err := os.OpenFile(filepath.Join(s.dir, "authorized_keys"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(ssh.MarshalAuthorizedKey(pub)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *testServer) writeKnownHosts(file string, key ssh.PublicKey) {
	line := knownhosts.Line([]string{knownhosts.Normalize(s.addr())}, key)
	writeFile(s.t, file, line+"\n", 0o600)
}

// config returns a client Config that logs in to s with its client key.
func (s *testServer) clientConfig() Config {
	return Config{
		Host:        "127.0.0.1",
		Port:        s.port,
		User:        testUser,
		KeyPath:     s.clientKey,
		KnownHosts:  s.knownHosts,
		DialTimeout: 5 * time.Second,
		Logger:      zerolog.New(zerolog.NewTestWriter(s.t)).Level(zerolog.DebugLevel),
	}
}

func (s *testServer) dial(cfg Config) *Client {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		s.t.Fatalf("Dial: %v", err)
	}
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// writeKey writes a new ed25519 private key in OpenSSH format, encrypted
// when passphrase is set, and returns its signer.
func writeKey(t *testing.T, file string, passphrase []byte) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase != nil {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "flow test", passphrase)
	} else {
		block, err = ssh.MarshalPrivateKey(priv, "flow test")
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, string(pem.EncodeToMemory(block)), 0o600)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func writeFile(t *testing.T, file, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(file, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// greets reports whether an SSH server answers on addr with its banner.
func greets(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4)
	n, _ := conn.Read(buf)
	return string(buf[:n]) == "SSH-"
}

// descendants lists the processes below pid, read from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces; the parent
		// pid is the second field after it.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// processRunning reports whether a process with exactly these arguments is
// alive on this machine (the test server is on this machine too).
func processRunning(args ...string) bool {
	want := strings.Join(args, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(cmdline) == want {
			stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if !strings.Contains(string(stat), ") Z ") { // zombies are dead
				return true
			}
		}
	}
	return false
}

type testLogWriter struct {
	t      *testing.T
	prefix string
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(w.prefix + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
