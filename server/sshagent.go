package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/sys/unix"
	"gopkg.in/yaml.v3"

	"github.com/flow-cwl/flow/internal/clusters"
	"github.com/flow-cwl/flow/server/store"
)

// A run on a cluster logs in with the team's SSH key for that cluster (the
// key the team generated under the cluster's name), when it has one. The
// private key never touches the disk: the daemon serves it to the run's
// flow process from memory, as an ssh-agent that lives as long as the
// run's process, and writes the run a clusters file whose entry says to
// use the agent.
//
// The agent is the team's key within reach of a process, so it is kept
// out of every other process's reach:
//   - its socket has a random name in the daemon-private directory
//     data_dir/agents (0700), outside every team's directory, so no job,
//     sandboxed or not, is given its path;
//   - it answers only the run's own flow process: a connection's peer
//     credentials (SO_PEERCRED) must be the daemon's user and the pid of
//     that process, and connections before the process is started are
//     refused;
//   - it only lists the key and signs with it (signOnly): adding,
//     removing, locking, extensions and exporting signers are refused, so
//     even the run's process cannot swap the key or take it away.

// runAgent is the agent of one run.
type runAgent struct {
	listener net.Listener
	config   string // the run's clusters file
	socket   string
	run      string
	pid      atomic.Int64 // the run's flow process; 0 until it is started
	log      zerolog.Logger
}

// clusterAccess prepares what the run on cluster name needs from the
// team's keys. It returns nil when the team has no key for that cluster:
// the daemon's clusters file is then used as it is.
func (s *Server) clusterAccess(run *store.Run, name string) (*runAgent, error) {
	keys, err := s.store.SSHKeys(run.Team)
	if err != nil || s.cfg.ComputeConfig == "" {
		return nil, err
	}
	var id string
	for _, k := range keys {
		if k.Name == name {
			id = k.ID
		}
	}
	if id == "" {
		return nil, nil
	}
	pem, err := s.store.PrivateKey(run.Team, id)
	if err != nil {
		return nil, err
	}
	key, err := ssh.ParseRawPrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("the team's key for %s cannot be read: %w", name, err)
	}
	keyring, ok := agent.NewKeyring().(agent.ExtendedAgent)
	if !ok {
		return nil, errors.New("the ssh agent library's keyring cannot sign with flags")
	}
	if err := keyring.Add(agent.AddedKey{PrivateKey: key, Comment: run.Team + "/" + name}); err != nil {
		return nil, err
	}
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	base := filepath.Join(s.layout.agents(), hex.EncodeToString(b[:]))
	ra := &runAgent{socket: base + ".sock", config: base + ".yaml", run: run.ID, log: s.log}
	if len(ra.socket) >= maxSocketPath {
		return nil, fmt.Errorf("the agent socket %s is longer than a Unix socket path may be (%d bytes): use a shorter data_dir", ra.socket, maxSocketPath-1)
	}
	if err := writeRunClusters(s.cfg.ComputeConfig, name, ra.config); err != nil {
		return nil, err
	}
	if ra.listener, err = net.Listen("unix", ra.socket); err != nil {
		os.Remove(ra.config)
		return nil, err
	}
	if err := os.Chmod(ra.socket, 0o600); err != nil {
		ra.close()
		return nil, err
	}
	go ra.serve(signOnly{keyring})
	return ra, nil
}

// maxSocketPath is the size of sockaddr_un's sun_path on Linux, with its
// terminating NUL.
const maxSocketPath = 108

// allow lets the run's flow process, now started with pid, in.
func (ra *runAgent) allow(pid int) {
	if ra != nil {
		ra.pid.Store(int64(pid))
	}
}

func (ra *runAgent) serve(keys agent.Agent) {
	for {
		conn, err := ra.listener.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			if err := ra.admit(conn); err != nil {
				ra.log.Warn().Str("run", ra.run).Err(err).Msg("ssh-agent: refused a connection")
				return
			}
			_ = agent.ServeAgent(keys, conn)
		}()
	}
}

// admit checks that the peer of conn is the run's flow process.
func (ra *runAgent) admit(conn net.Conn) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return errors.New("not a Unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("cannot read the peer's credentials: %w", cerr)
	}
	want := ra.pid.Load()
	switch {
	case want == 0:
		return fmt.Errorf("pid %d connected before the run's flow process was started", cred.Pid)
	case int64(cred.Pid) != want || int(cred.Uid) != os.Getuid():
		return fmt.Errorf("pid %d (uid %d) is not the run's flow process (pid %d)", cred.Pid, cred.Uid, want)
	}
	return nil
}

// close stops the agent; the key goes with it.
func (ra *runAgent) close() {
	if ra != nil {
		ra.listener.Close()
		os.Remove(ra.socket)
		os.Remove(ra.config)
	}
}

// errSignOnly refuses what the run's agent does not do.
var errSignOnly = errors.New("this agent only lists its key and signs with it")

// signOnly is the team's key as a run may use it: listed and used to
// sign. Nothing may add a key (which would then be used to log in),
// remove or lock it (which would break the run's logins), or export it.
type signOnly struct{ keys agent.ExtendedAgent }

var _ agent.ExtendedAgent = signOnly{}

func (a signOnly) List() ([]*agent.Key, error) { return a.keys.List() }

func (a signOnly) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	return a.keys.Sign(key, data)
}

func (a signOnly) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	return a.keys.SignWithFlags(key, data, flags)
}

func (signOnly) Add(agent.AddedKey) error                 { return errSignOnly }
func (signOnly) Remove(ssh.PublicKey) error               { return errSignOnly }
func (signOnly) RemoveAll() error                         { return errSignOnly }
func (signOnly) Lock([]byte) error                        { return errSignOnly }
func (signOnly) Unlock([]byte) error                      { return errSignOnly }
func (signOnly) Signers() ([]ssh.Signer, error)           { return nil, errSignOnly }
func (signOnly) Extension(string, []byte) ([]byte, error) { return nil, agent.ErrExtensionUnsupported }

// writeRunClusters writes the cluster's entry of the daemon's clusters
// file to path, set to log in through the agent.
func writeRunClusters(from, name, path string) error {
	cfg, err := clusters.Load(from)
	if err != nil {
		return err
	}
	c, err := cfg.Find(name)
	if err != nil {
		return err
	}
	one := *c
	one.SSHKey = clusters.SSHKey{Agent: true}
	data, err := yaml.Marshal(clusters.Config{Clusters: []clusters.Cluster{one}})
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return errors.New("empty clusters file")
	}
	return os.WriteFile(path, data, 0o600)
}
