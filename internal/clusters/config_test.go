package clusters

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "clusters.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	home, _ := os.UserHomeDir()
	cfg, err := Load(write(t, `clusters:
  - name: hpc1
    host: login.example.org
    username: alice
    ssh_key: {type: ssh-ed25519, path: ~/.ssh/id_ed25519, password_env: HPC1_KEY_PASS}
    known_hosts: ~/.ssh/known_hosts
    workdir: /scratch/alice/flow
    partition: normal
    prologue: ["module load singularity"]
  - name: here
    host: localhost
    ssh: false
    workdir: /tmp/flow
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Find("hpc1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 22 || c.Scheduler != "slurm" || c.MaxArraySize != 1000 || c.MaxSessions != 8 || c.SSHKey.Path != filepath.Join(home, ".ssh/id_ed25519") || !c.UsesSSH() {
		t.Errorf("defaults and ~ not applied: %+v", c)
	}
	here, _ := cfg.Find("here")
	if here.UsesSSH() || !here.SharedFS {
		t.Errorf("an ssh: false cluster shares this machine's files: %+v", here)
	}
	if _, err := cfg.Find("nope"); err == nil || !strings.Contains(err.Error(), "hpc1, here") {
		t.Errorf("unknown cluster: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := map[string]string{
		"clusters:\n  - name: a\n    host: h\n    workdir: /w\n    username: u\n    ssh_key: {path: k}\n":                                   "known_hosts is missing",
		"clusters:\n  - name: a\n    host: h\n    workdir: /w\n    username: u\n    known_hosts: k\n    ssh_key: {path: k}\n    hostt: x\n": "line 8",
		"clusters:\n  - name: a\n    host: h\n    ssh: false\n":                                                                             "workdir is missing",
		"clusters:\n  - name: a\n    host: h\n    ssh: false\n    workdir: /w\n    scheduler: pbs\n":                                        `scheduler "pbs"`,
		"clusters:\n  - {name: a, host: h, ssh: false, workdir: /w, max_sessions: -1}\n":                                                    "max_sessions is -1",
		"clusters:\n  - {name: a, host: h, ssh: false, workdir: /w}\n  - {name: a, host: h, ssh: false, workdir: /w}\n":                     "used twice",
	}
	for text, want := range cases {
		_, err := Load(write(t, text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %q: got %v, want an error containing %q", text, err, want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no compute configuration") {
		t.Errorf("missing file: %v", err)
	}
}

// containers.pull says where images are pulled; login needs an unshared
// cluster with a runtime, and a mistaken value is named with the choices.
func TestContainersPull(t *testing.T) {
	base := "clusters:\n  - {name: a, host: h, username: u, known_hosts: k, ssh_key: {path: k}, workdir: /w, "
	cfg, err := Load(write(t, base+"containers: {singularity: /s, pull: login, registry_ca_dir: /etc/ca}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Clusters[0]; !c.Containers.PullsOnLogin() || c.Containers.RegistryCADir != "/etc/ca" {
		t.Errorf("pull: login not read: %+v", c.Containers)
	}
	cfg, err = Load(write(t, base+"containers: {singularity: /s, pull: here}}\n"))
	if err != nil || cfg.Clusters[0].Containers.PullsOnLogin() {
		t.Errorf("pull: here: %v, %+v", err, cfg)
	}
	cases := map[string]string{
		base + "containers: {singularity: /s, pull: cluster}}\n":                                                   `containers.pull is "cluster"`,
		base + "shared_fs: true, containers: {singularity: /s, pull: login}}\n":                                    "shared_fs: false",
		base + "containers: {pull: login}}\n":                                                                      "containers.singularity",
		base + "containers: {singularity: /s, registry_ca_dir: /c}}\n":                                             "only used with containers.pull: login",
		base + "containers: {singularity: /s, pull: login, registry_ca_dir: ca}}\n":                                "absolute path on the cluster",
		"clusters:\n  - {name: a, host: h, ssh: false, workdir: /w, containers: {singularity: /s, pull: login}}\n": "shared_fs: false",
	}
	for text, want := range cases {
		_, err := Load(write(t, text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %q: got %v, want an error containing %q", text, err, want)
		}
	}
}
