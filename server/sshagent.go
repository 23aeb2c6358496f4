package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"gopkg.in/yaml.v3"

	"github.com/flow-cwl/flow/internal/clusters"
	"github.com/flow-cwl/flow/server/store"
)

// A run on a cluster logs in with the team's SSH key for that cluster (the
// key the team generated under the cluster's name), when it has one. The
// private key never touches the disk: the daemon serves it to the run's
// flow process from memory, as an ssh-agent on a socket in the run's
// directory (0700) that lives as long as the run's process, and writes the
// run a clusters file whose entry says to use the agent.

// runAgent is the agent of one run.
type runAgent struct {
	listener net.Listener
	config   string // the run's clusters file
	socket   string
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
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key, Comment: run.Team + "/" + name}); err != nil {
		return nil, err
	}
	ra := &runAgent{socket: filepath.Join(run.Dir, ".ssh-agent"), config: filepath.Join(run.Dir, ".clusters.yaml")}
	if err := writeRunClusters(s.cfg.ComputeConfig, name, ra.config); err != nil {
		return nil, err
	}
	_ = os.Remove(ra.socket) // left by a daemon that died
	if ra.listener, err = net.Listen("unix", ra.socket); err != nil {
		return nil, err
	}
	go serveAgent(ra.listener, keyring)
	return ra, nil
}

func serveAgent(l net.Listener, keyring agent.Agent) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			_ = agent.ServeAgent(keyring, conn)
		}()
	}
}

// close stops the agent; the key goes with it.
func (ra *runAgent) close() {
	if ra != nil {
		ra.listener.Close()
		os.Remove(ra.socket)
	}
}

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
