package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/testcluster"
	"github.com/flow-cwl/flow/internal/testenv"
)

// unsharedConfig writes a compute configuration reaching the test cluster
// over SSH as the unprivileged test user, with shared_fs: false. The test
// user cannot read the test's own directories (they are root's, 0700), so
// a job that touched flow's local paths instead of staged copies fails.
func unsharedConfig(t *testing.T, c *testcluster.Cluster) (cfg, workdir string) {
	t.Helper()
	workdir = filepath.Join(c.WorkDir, fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()))
	t.Cleanup(func() { os.RemoveAll(workdir) })
	cfg = filepath.Join(t.TempDir(), "clusters.yaml")
	text := fmt.Sprintf(`clusters:
  - name: test
    host: %s
    port: %d
    username: %s
    ssh_key: {path: %s}
    known_hosts: %s
    workdir: %s
    shared_fs: false
`, c.SSHHost, c.SSHPort, c.SSHUser, c.SSHKey, c.SSHKnownHosts, workdir)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, workdir
}

// On a cluster that does not share flow's file system, inputs go up over
// SFTP and outputs come back: the same outputs as a local run.
func TestRunComputeStagesFilesWithoutSharedFS(t *testing.T) {
	c := testcluster.Require(t)
	cfg, _ := unsharedConfig(t, c)
	dir := t.TempDir()
	wf, job := "../../examples/workflows/fasta-stats.cwl", "../../examples/workflows/fasta-stats.yml"
	local := flow(t, "run", "--quiet", "--no-provenance", "--outdir", filepath.Join(dir, "local"), wf, job)
	if local.code != 0 {
		t.Fatalf("local run: %s", local.stderr)
	}
	remote := flow(t, "run", "--quiet", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--outdir", filepath.Join(dir, "slurm"), wf, job)
	if remote.code != 0 {
		t.Fatalf("--run_compute on an unshared cluster: exit %d: %s", remote.code, remote.stderr)
	}
	a, b := testenv.OutputChecksums(t, local.stdout), testenv.OutputChecksums(t, remote.stdout)
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Errorf("outputs differ between --run_local and the unshared cluster:\n local %v\n slurm %v", a, b)
	}
}

// The command sees staged paths under the cluster's workdir, reads its
// input (with its secondary file beside it) and an InitialWorkDir file
// there, and what it writes comes back.
func TestStagedJobSeesRemotePaths(t *testing.T) {
	c := testcluster.Require(t)
	cfg, workdir := unsharedConfig(t, c)
	dir := t.TempDir()
	tool := filepath.Join(dir, "where.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
requirements:
  ShellCommandRequirement: {}
  InitialWorkDirRequirement:
    listing:
      - entryname: note.txt
        entry: "made for $(inputs.f.basename)"
inputs:
  f: {type: File, secondaryFiles: [.idx]}
arguments:
  - valueFrom: >
      echo "$(inputs.f.path)" > where.txt &&
      echo "$(runtime.outdir)" >> where.txt &&
      cat "$(inputs.f.path)" "$(inputs.f.path).idx" note.txt > copy.txt
    shellQuote: false
outputs:
  where: {type: File, outputBinding: {glob: where.txt}}
  copy: {type: File, outputBinding: {glob: copy.txt}}
`)
	writeFile(t, filepath.Join(dir, "data.txt"), "payload\n")
	writeFile(t, filepath.Join(dir, "data.txt.idx"), "index\n")
	out := filepath.Join(dir, "out")
	r := flow(t, "run", "--quiet", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--outdir", out, tool, "--f", filepath.Join(dir, "data.txt"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got map[string]map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	copyText := readFile(t, got["copy"]["path"].(string))
	if copyText != "payload\nindex\nmade for data.txt" {
		t.Errorf("the job read %q, want the input, its secondary file and the InitialWorkDir file", copyText)
	}
	lines := strings.Fields(readFile(t, got["where"]["path"].(string)))
	if len(lines) != 2 {
		t.Fatalf("where.txt: %q", lines)
	}
	for _, p := range lines {
		if !strings.HasPrefix(p, workdir+"/") {
			t.Errorf("the job saw %s, not a path under the cluster's workdir %s", p, workdir)
		}
	}
	if !strings.HasSuffix(lines[0], "/data.txt") {
		t.Errorf("the input is staged as %s, not under its basename", lines[0])
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
