// Package testcluster connects integration tests to the test cluster that
// scripts/testcluster starts on this machine: a one-node Slurm cluster and
// an sshd with a test user and keys.
//
//	func TestOnSlurm(t *testing.T) {
//		c := testcluster.Require(t) // skips (fails in CI) when the cluster is not up
//		runner := slurm.LocalRunner{Env: c.SlurmEnv()}
//		...
//	}
//
// `scripts/testcluster up` writes an env file ($FLOW_TESTCLUSTER_DIR/env,
// default /tmp/flow-testcluster/env) that Require reads; FLOW_TESTCLUSTER_ENV
// names another file. Without a file, the same variables are taken from
// the environment, for a cluster set up some other way.
package testcluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// Cluster is the test cluster as the env file describes it.
type Cluster struct {
	SlurmConf string // SLURM_CONF: the cluster's slurm.conf

	SSHHost          string // FLOW_TEST_SSH_HOST, e.g. 127.0.0.1
	SSHPort          int    // FLOW_TEST_SSH_PORT, e.g. 2222
	SSHUser          string // FLOW_TEST_SSH_USER: the test user, flowtest
	SSHKey           string // FLOW_TEST_SSH_KEY: an unencrypted ed25519 private key
	SSHKeyEncrypted  string // FLOW_TEST_SSH_KEY_ENCRYPTED: the same kind, encrypted
	SSHKeyPassphrase string // FLOW_TEST_SSH_KEY_PASSPHRASE: its passphrase
	SSHKnownHosts    string // FLOW_TEST_SSH_KNOWN_HOSTS: a known_hosts line for the sshd
	WorkDir          string // FLOW_TEST_WORKDIR: a directory the test user owns
}

// SlurmEnv is what a process needs in its environment to use the
// cluster's Slurm commands: SLURM_CONF.
func (c *Cluster) SlurmEnv() []string { return []string{"SLURM_CONF=" + c.SlurmConf} }

const notUp = "the Slurm/SSH test cluster is not up; run scripts/testcluster up"

// Require returns the test cluster, after checking that Slurm answers. If
// the cluster is not up the test is skipped, or fails when
// FLOW_REQUIRE_INTEGRATION=1 (CI).
func Require(t testing.TB) *Cluster {
	t.Helper()
	c, err := Load()
	if err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("%s (%v)", notUp, err))
		return nil
	}
	cmd := exec.Command("sinfo", "-h", "-o", "%t")
	cmd.Env = append(os.Environ(), c.SlurmEnv()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("%s (sinfo: %v: %s)", notUp, err, strings.TrimSpace(string(out))))
		return nil
	}
	return c
}

// EnvFile is where the env file is: FLOW_TESTCLUSTER_ENV, else env in
// FLOW_TESTCLUSTER_DIR, else /tmp/flow-testcluster/env.
func EnvFile() string {
	if f := os.Getenv("FLOW_TESTCLUSTER_ENV"); f != "" {
		return f
	}
	dir := os.Getenv("FLOW_TESTCLUSTER_DIR")
	if dir == "" {
		dir = "/tmp/flow-testcluster"
	}
	return filepath.Join(dir, "env")
}

// Load reads the cluster's description from the env file, or from the
// environment when there is no file and FLOW_TESTCLUSTER=1 is set there.
func Load() (*Cluster, error) {
	vars, err := readEnvFile(EnvFile())
	switch {
	case errors.Is(err, os.ErrNotExist) && os.Getenv("FLOW_TESTCLUSTER") == "1":
		vars = os.Getenv
	case err != nil:
		return nil, err
	}
	if vars("FLOW_TESTCLUSTER") != "1" || vars("SLURM_CONF") == "" {
		return nil, errors.New("the env file does not describe a cluster (FLOW_TESTCLUSTER=1 and SLURM_CONF are missing)")
	}
	c := &Cluster{
		SlurmConf:        vars("SLURM_CONF"),
		SSHHost:          vars("FLOW_TEST_SSH_HOST"),
		SSHUser:          vars("FLOW_TEST_SSH_USER"),
		SSHKey:           vars("FLOW_TEST_SSH_KEY"),
		SSHKeyEncrypted:  vars("FLOW_TEST_SSH_KEY_ENCRYPTED"),
		SSHKeyPassphrase: vars("FLOW_TEST_SSH_KEY_PASSPHRASE"),
		SSHKnownHosts:    vars("FLOW_TEST_SSH_KNOWN_HOSTS"),
		WorkDir:          vars("FLOW_TEST_WORKDIR"),
	}
	if p := vars("FLOW_TEST_SSH_PORT"); p != "" {
		if c.SSHPort, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("FLOW_TEST_SSH_PORT is %q, not a port number", p)
		}
	}
	return c, nil
}

// readEnvFile reads NAME=VALUE lines; blank lines and # comments are
// skipped. Values are taken as they are (the file is written by
// scripts/testcluster, not by a shell user).
func readEnvFile(path string) (func(string) string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: the line %q is not NAME=VALUE", path, line)
		}
		m[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return func(k string) string { return m[k] }, nil
}

// Job is one line of slurmctld's job completion log: a job, or one task
// of a job array, that has ended.
type Job struct {
	JobID      string // the job's own id
	ArrayJobID string // for an array task, the id sbatch printed; else ""
	WorkDir    string
	State      string
}

// Submission is the id sbatch printed for the job: the array's id for an
// array task, else the job's own.
func (j Job) Submission() string {
	if j.ArrayJobID != "" {
		return j.ArrayJobID
	}
	return j.JobID
}

// EndedJobs reads the cluster's job completion log (JobCompLoc in its
// slurm.conf, written by slurmctld as jobs end) and returns the jobs that
// worked in dir or below it. Tests count sbatch calls with it: one
// distinct Submission per call.
func (c *Cluster) EndedJobs(dir string) ([]Job, error) {
	loc, err := c.slurmSetting("JobCompLoc")
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(loc)
	if err != nil {
		return nil, err
	}
	var jobs []Job
	for _, line := range strings.Split(string(data), "\n") {
		f := map[string]string{}
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		wd := f["WorkDir"]
		if wd != dir && !strings.HasPrefix(wd, dir+"/") {
			continue
		}
		jobs = append(jobs, Job{JobID: f["JobId"], ArrayJobID: f["ArrayJobId"], WorkDir: wd, State: f["JobState"]})
	}
	return jobs, nil
}

// Submissions counts the distinct sbatch calls among jobs.
func Submissions(jobs []Job) int {
	seen := map[string]bool{}
	for _, j := range jobs {
		seen[j.Submission()] = true
	}
	return len(seen)
}

// slurmSetting reads one Key=Value line of the cluster's slurm.conf.
func (c *Cluster) slurmSetting(key string) (string, error) {
	data, err := os.ReadFile(c.SlurmConf)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.EqualFold(k, key) {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s sets no %s", c.SlurmConf, key)
}
