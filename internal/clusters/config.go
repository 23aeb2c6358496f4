// Package clusters reads the compute configuration: the clusters flow can
// run workflows on, each a Slurm scheduler reached over SSH or, for a
// login node, directly.
//
//	clusters:
//	  - name: hpc1
//	    host: login.hpc.example.org
//	    port: 22
//	    username: alice
//	    scheduler: slurm
//	    ssh_key: {type: ssh-ed25519, path: ~/.ssh/id_ed25519, password_env: HPC1_KEY_PASS}
//	    known_hosts: ~/.ssh/known_hosts
//	    workdir: /scratch/alice/flow
//	    shared_fs: false
//	    partition: normal
//	    account: proj42
//	    max_array_size: 1000
//	    max_sessions: 8          # below sshd's MaxSessions (OpenSSH: 10)
//	    prologue: ["module load gcc"]
//	    containers:               # how jobs run images on this cluster
//	      singularity: /opt/singularity/bin/singularity
//	      module: singularity/4.5  # or loaded with `module load` first
//	      pull: login              # shared_fs: false only: pull on the login node
//	      registry_ca_dir: /etc/lab-ca  # on the cluster: CAs its pulls trust
//
// A cluster with `ssh: false` (its host is this machine) runs sbatch and
// squeue here.
package clusters

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Cluster is one entry of the configuration.
type Cluster struct {
	Name         string `yaml:"name"`
	Host         string `yaml:"host"`
	Port         int    `yaml:"port"`
	Username     string `yaml:"username"`
	SSH          *bool  `yaml:"ssh"` // nil: true
	Scheduler    string `yaml:"scheduler"`
	SSHKey       SSHKey `yaml:"ssh_key"`
	KnownHosts   string `yaml:"known_hosts"`
	Workdir      string `yaml:"workdir"`
	SharedFS     bool   `yaml:"shared_fs"`
	Partition    string `yaml:"partition"`
	Account      string `yaml:"account"`
	QOS          string `yaml:"qos"`
	MaxArraySize int    `yaml:"max_array_size"`
	// MaxSessions bounds the SSH sessions flow opens at once for commands
	// (one more carries SFTP); keep it below the server's MaxSessions.
	MaxSessions int      `yaml:"max_sessions"`
	Prologue    []string `yaml:"prologue"`
	// Env is set for the scheduler's commands on the login side, e.g.
	// SLURM_CONF for a cluster whose configuration is not in /etc.
	Env map[string]string `yaml:"env"`
	// Containers says how jobs run container images on the cluster.
	Containers Containers `yaml:"containers"`
}

// Containers is the cluster's container runtime, as its jobs find it:
// never the runtime of the machine flow runs on.
type Containers struct {
	// Singularity is the runtime's path (or name, looked up on PATH once
	// Module is loaded) on the compute nodes.
	Singularity string `yaml:"singularity"`
	// Module is loaded (`module load`) in each job before the runtime runs.
	Module string `yaml:"module"`
	// Pull says where images named by dockerPull are pulled: "here" (the
	// default) into this machine's cache, then uploaded; "login" on the
	// cluster's login node with its runtime, for a cluster that reaches
	// the registry (perhaps when this machine cannot). Only for
	// shared_fs: false.
	Pull string `yaml:"pull"`
	// RegistryCADir is a directory on the cluster of PEM CA certificates
	// that pulls on the login node trust beside the system's (given to
	// the runtime as SSL_CERT_DIR), like FLOW_REGISTRY_CA_DIR here.
	RegistryCADir string `yaml:"registry_ca_dir"`
}

// PullsOnLogin reports whether images are pulled on the login node.
func (c Containers) PullsOnLogin() bool { return c.Pull == "login" }

// HasRuntime reports whether the configuration names a container runtime.
func (c Containers) HasRuntime() bool { return c.Singularity != "" || c.Module != "" }

// Runtime is the program jobs start: Singularity, else the name a module
// of that kind puts on PATH.
func (c Containers) Runtime() string {
	if c.Singularity != "" {
		return c.Singularity
	}
	return "singularity"
}

// SSHKey names the private key flow logs in with.
type SSHKey struct {
	Type        string `yaml:"type"`
	Path        string `yaml:"path"`
	PasswordEnv string `yaml:"password_env"` // variable holding the key's passphrase
	Agent       bool   `yaml:"agent"`        // also offer keys from ssh-agent
}

// Config is the whole file.
type Config struct {
	Path     string    `yaml:"-"`
	Clusters []Cluster `yaml:"clusters"`
}

// UsesSSH reports whether flow reaches the cluster over SSH.
func (c *Cluster) UsesSSH() bool { return c.SSH == nil || *c.SSH }

// DefaultPath is $XDG_CONFIG_HOME/flow/clusters.yaml, or
// ~/.config/flow/clusters.yaml.
func DefaultPath() (string, error) {
	base := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find the compute configuration: %w", err)
		}
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "flow", "clusters.yaml"), nil
}

// Load reads and checks the configuration at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no compute configuration; describe your clusters there (see the README) or pass --compute-config", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	cfg := &Config{Path: path}
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	seen := map[string]bool{}
	for i := range cfg.Clusters {
		c := &cfg.Clusters[i]
		if err := c.normalise(); err != nil {
			return nil, fmt.Errorf("%s: cluster %d (%q): %w", path, i+1, c.Name, err)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("%s: the cluster name %q is used twice", path, c.Name)
		}
		seen[c.Name] = true
	}
	return cfg, nil
}

// Find returns the cluster called name.
func (cfg *Config) Find(name string) (*Cluster, error) {
	var names []string
	for i := range cfg.Clusters {
		if cfg.Clusters[i].Name == name {
			return &cfg.Clusters[i], nil
		}
		names = append(names, cfg.Clusters[i].Name)
	}
	return nil, fmt.Errorf("%s has no cluster %q; it has: %s", cfg.Path, name, strings.Join(names, ", "))
}

// normalise fills defaults, expands ~ and checks what must be there.
func (c *Cluster) normalise() error {
	switch {
	case c.Name == "":
		return errors.New("name is missing")
	case c.Host == "":
		return errors.New("host is missing")
	case c.Workdir == "":
		return errors.New("workdir is missing: flow needs a directory on the cluster for the jobs' files")
	}
	if c.Scheduler == "" {
		c.Scheduler = "slurm"
	}
	if c.Scheduler != "slurm" {
		return fmt.Errorf("scheduler %q is not supported; flow drives slurm", c.Scheduler)
	}
	if c.Port == 0 {
		c.Port = 22
	}
	if c.MaxArraySize == 0 {
		c.MaxArraySize = 1000
	}
	if c.MaxSessions < 0 {
		return fmt.Errorf("max_sessions is %d; it must be at least 1 (default 8)", c.MaxSessions)
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = 8
	}
	if strings.ContainsAny(c.Containers.Module, " \t\n;&|") {
		return fmt.Errorf("containers.module %q is not a module name", c.Containers.Module)
	}
	for _, p := range []*string{&c.SSHKey.Path, &c.KnownHosts, &c.Workdir} {
		*p = expandHome(*p)
	}
	if err := c.checkPull(); err != nil {
		return err
	}
	if !filepath.IsAbs(c.Workdir) {
		return fmt.Errorf("workdir %q must be an absolute path", c.Workdir)
	}
	if !c.UsesSSH() {
		c.SharedFS = true // the login node is this machine
		return nil
	}
	switch {
	case c.Username == "":
		return errors.New("username is missing")
	case c.KnownHosts == "":
		return errors.New("known_hosts is missing: flow checks the cluster's host key and never skips that check")
	case c.SSHKey.Path == "" && !c.SSHKey.Agent:
		return errors.New("ssh_key.path is missing (or set ssh_key.agent: true)")
	}
	return nil
}

// checkPull checks containers.pull and what it needs.
func (c *Cluster) checkPull() error {
	switch {
	case c.Containers.Pull != "" && c.Containers.Pull != "here" && c.Containers.Pull != "login":
		return fmt.Errorf("containers.pull is %q; it must be here (the default: pull on this machine, then upload) or login (pull on the cluster's login node)", c.Containers.Pull)
	case c.Containers.RegistryCADir != "" && !c.Containers.PullsOnLogin():
		return errors.New("containers.registry_ca_dir is only used with containers.pull: login (pulls here trust FLOW_REGISTRY_CA_DIR)")
	case !c.Containers.PullsOnLogin():
		return nil
	case c.SharedFS || !c.UsesSSH():
		return errors.New("containers.pull: login is for clusters with shared_fs: false; this one shares flow's files, so images pulled here are already where its jobs see them")
	case !c.Containers.HasRuntime():
		return errors.New("containers.pull: login needs the cluster's runtime: set containers.singularity (or containers.module)")
	case c.Containers.RegistryCADir != "" && !strings.HasPrefix(c.Containers.RegistryCADir, "/"):
		return fmt.Errorf("containers.registry_ca_dir %q must be an absolute path on the cluster", c.Containers.RegistryCADir)
	}
	return nil
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}
