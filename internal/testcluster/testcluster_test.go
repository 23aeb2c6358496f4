package testcluster

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadEnvFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "env")
	content := "# a comment\nFLOW_TESTCLUSTER=1\nSLURM_CONF=/x/slurm.conf\nFLOW_TEST_SSH_PORT=2222\nFLOW_TEST_SSH_KEY_PASSPHRASE=a=b c\n"
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FLOW_TESTCLUSTER_ENV", f)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.SlurmConf != "/x/slurm.conf" || c.SSHPort != 2222 || c.SSHKeyPassphrase != "a=b c" {
		t.Errorf("Load() = %+v", c)
	}
	if env := c.SlurmEnv(); len(env) != 1 || env[0] != "SLURM_CONF=/x/slurm.conf" {
		t.Errorf("SlurmEnv() = %q", env)
	}
}

func TestLoadWithoutCluster(t *testing.T) {
	t.Setenv("FLOW_TESTCLUSTER_ENV", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("FLOW_TESTCLUSTER", "")
	if c, err := Load(); err == nil {
		t.Errorf("Load() without an env file = %+v, want an error", c)
	}
	// The variables alone describe a cluster, too.
	t.Setenv("FLOW_TESTCLUSTER", "1")
	t.Setenv("SLURM_CONF", "/y/slurm.conf")
	c, err := Load()
	if err != nil || c.SlurmConf != "/y/slurm.conf" {
		t.Errorf("Load() from the environment = %+v, %v", c, err)
	}
}
