package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/flow-cwl/flow/internal/testcluster"
	"github.com/flow-cwl/flow/internal/testenv"
)

// computeConfig writes a compute configuration naming the test cluster's
// Slurm, driven from this machine (ssh: false).
func computeConfig(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "clusters.yaml")
	text := fmt.Sprintf(`clusters:
  - name: test
    host: localhost
    ssh: false
    workdir: %s
    env: {SLURM_CONF: %s}
`, filepath.Join(dir, "work"), c.SlurmConf)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The same workflow, unchanged, on Slurm gives the same outputs as here.
func TestRunComputeMatchesLocal(t *testing.T) {
	c := testcluster.Require(t)
	cfg := computeConfig(t, c)
	dir := t.TempDir()
	wf, job := "../../examples/workflows/fasta-stats.cwl", "../../examples/workflows/fasta-stats.yml"
	local := flow(t, "run", "--quiet", "--no-provenance", "--outdir", filepath.Join(dir, "local"), wf, job)
	if local.code != 0 {
		t.Fatalf("local run: %s", local.stderr)
	}
	remote := flow(t, "run", "--quiet", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--db", filepath.Join(dir, "flow.db"), "--outdir", filepath.Join(dir, "slurm"), wf, job)
	if remote.code != 0 {
		t.Fatalf("--run_compute: exit %d: %s", remote.code, remote.stderr)
	}
	a, b := testenv.OutputChecksums(t, local.stdout), testenv.OutputChecksums(t, remote.stdout)
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Errorf("outputs differ between --run_local and --run_compute:\n local %v\n slurm %v", a, b)
	}
	runs := flow(t, "runs", "--db", filepath.Join(dir, "flow.db"), "-o", "json")
	var list []struct{ Executor string }
	if err := json.Unmarshal([]byte(runs.stdout), &list); err != nil || len(list) != 1 || list[0].Executor != "slurm:test" {
		t.Errorf("the run should be recorded as run on slurm:test: %v %s", err, runs.stdout)
	}
}
