package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/cwltest"
	"github.com/flow-cwl/flow/internal/testcluster"
	"github.com/flow-cwl/flow/internal/testenv"
)

// The conformance tests tagged docker, judged by cwltest, on the test
// cluster over SSH with the real runtime the cluster's configuration
// names: with a shared workdir, and without one (inputs and images staged
// to the cluster, as an unprivileged user who cannot read the suite).
func TestDockerConformanceOnCluster(t *testing.T) {
	c := testcluster.Require(t)
	if _, err := os.Stat(clusterRuntime); err != nil {
		testenv.SkipOrFail(t, "no SingularityCE at "+clusterRuntime+" (scripts/test installs it from ../shared/runtimes)")
	}
	source := os.Getenv("CWLTEST")
	if source == "" {
		source = "../../../shared/cwltest"
	}
	if err := cwltest.Available(source, ""); err != nil {
		testenv.SkipOrFail(t, err.Error())
	}
	cache := t.TempDir()
	linkDebianImages(t, cache)
	t.Setenv("FLOW_SINGULARITY_CACHE", cache)
	suite := copySuite(t)
	shared := sshConfig(t, c)
	unshared, _ := unsharedConfig(t, c)
	for name, cfg := range map[string]string{"shared_fs true": shared, "shared_fs false": unshared} {
		appendFile(t, cfg, "    containers: {singularity: "+clusterRuntime+"}\n")
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			report := filepath.Join(t.TempDir(), "report.xml")
			args := []string{"run", "--singularity", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg}
			cmd := cwltest.Command(ctx, cwltest.Options{Source: source, Suite: suite, Tool: flowBin, Args: args,
				Tags: "docker", Jobs: 2, Timeout: 300, JUnit: report, TempDir: t.TempDir()})
			log, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("cwltest: %v\n%s", err, log)
			}
			cases, err := cwltest.ReadJUnitFile(report)
			if err != nil {
				t.Fatalf("%v\ncwltest's log:\n%s", err, log)
			}
			for _, c := range cases {
				if c.Status != cwltest.Passed {
					t.Errorf("%s: %s: %s\n%s", c.ID, c.Status, c.Message, c.Stderr)
				}
			}
			if len(cases) < 8 {
				t.Errorf("only %d tests are tagged docker", len(cases))
			}
		})
	}
}
