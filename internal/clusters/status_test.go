package clusters

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSinfo(t *testing.T) {
	got := parseSinfo("debug*|up|1|idle\nbig|up|3|mix\nbig|up|1|drain*\nold|down|2|down\n")
	want := []Partition{
		{Name: "debug", Avail: "up", Up: true, Default: true, Nodes: map[string]int{"idle": 1}},
		{Name: "big", Avail: "up", Up: true, Nodes: map[string]int{"mix": 3, "drain": 1}},
		{Name: "old", Avail: "down", Nodes: map[string]int{"down": 2}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseSinfo:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseDf(t *testing.T) {
	if got := parseDf("/dev/vda 263174212 14212345 248961867 6% /\n"); got != 248961867*1024 {
		t.Errorf("free = %d", got)
	}
	if got := parseDf("garbage"); got != -1 {
		t.Errorf("unreadable df gives %d, want -1", got)
	}
}

// localRunner runs scripts with bash here, in the given environment.
type localRunner struct{ env []string }

func (r localRunner) Run(ctx context.Context, script string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = r.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return out, nil
}

// A runtime reached through a module is started by a login shell that
// loads the module first (sites define `module` in the login shell's
// startup files; here, the account's ~/.bash_profile), and a wrong one is
// reported naming the runtime, the module and the keys.
func TestRuntimeThroughAModule(t *testing.T) {
	home := t.TempDir()
	mod := filepath.Join(home, "modules", "singularity", "4.5")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	profile := `module() { [ "$1" = load ] && [ -d "$HOME/modules/$2" ] && PATH="$HOME/modules/$2:$PATH"; }` + "\n"
	runtime := "#!/bin/sh\necho 'singularity-ce version 4.5.1'\n"
	if err := os.WriteFile(filepath.Join(home, ".bash_profile"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "singularity"), []byte(runtime), 0o755); err != nil {
		t.Fatal(err)
	}
	r := localRunner{env: []string{"HOME=" + home, "PATH=/usr/bin:/bin"}}
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	c := &Cluster{Name: "hpc", Containers: Containers{Module: "singularity/4.5"}}
	if got, err := CheckRuntime(context.Background(), c, r, quote); err != nil || got != "singularity-ce version 4.5.1" {
		t.Errorf("through the module: %q, %v", got, err)
	}
	c.Containers.Module = "singularity/9.9"
	_, err := CheckRuntime(context.Background(), c, r, quote)
	if err == nil || !strings.Contains(err.Error(), "runtime singularity after module load singularity/9.9 (containers.module)") {
		t.Errorf("a module that does not load: %v", err)
	}
}
