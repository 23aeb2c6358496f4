package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flow-cwl/flow/internal/siftest"
	"github.com/flow-cwl/flow/internal/testcluster"
	"github.com/flow-cwl/flow/internal/testenv"
)

// pullOnLoginCluster is an unshared test cluster whose configuration says
// images are pulled on its login node (this machine, which reaches the
// test registry on loopback) with its runtime. It returns the
// configuration, the workdir and the environment of flow's runs, which
// names no runtime on this machine: one must not be needed.
func pullOnLoginCluster(t *testing.T) (cfg, workdir string, env []string) {
	t.Helper()
	c := testcluster.Require(t)
	if _, err := os.Stat(clusterRuntime); err != nil {
		testenv.SkipOrFail(t, "no SingularityCE at "+clusterRuntime+" (scripts/test installs it from ../shared/runtimes)")
	}
	cfg, workdir = unsharedConfig(t, c)
	appendFile(t, cfg, "    containers: {singularity: "+clusterRuntime+", pull: login}\n")
	env = []string{"XDG_CACHE_HOME=" + filepath.Join(t.TempDir(), "cache"), runtimeEnv + "=/nonexistent/singularity"}
	return cfg, workdir, env
}

// With containers.pull: login, a step's image is pulled once on the
// cluster's login node by the cluster's runtime, for two runs: the
// registry answers reads of its manifest for one pull only (a pull the
// runtime serves from its own cache on the cluster reads it too), nothing is pulled into
// this machine's cache nor uploaded, the step runs in the image, and the
// run's provenance records the digest of the file the cluster holds.
// (--no-cache: the second run runs its step too, not a cached result.)
// The registry listens on 127.0.0.2, which runtimes speak HTTPS to unless
// told otherwise, so the pull also shows FLOW_INSECURE_REGISTRIES reaches
// the login node.
func TestImagePulledOnClusterLoginNode(t *testing.T) {
	cfg, workdir, env := pullOnLoginCluster(t)
	reg := siftest.StartRegistryWith(t, siftest.RegistryOptions{IP: "127.0.0.2"})
	reg.Push(t, "flowtest/login:1", siftest.Options{Files: map[string]string{
		"/etc/image-name": "pulled-on-login\n", "/dev/.keep": "", "/proc/.keep": "", "/sys/.keep": "",
	}})
	env = append(env, "FLOW_INSECURE_REGISTRIES="+reg.Addr)
	dir := t.TempDir()
	tool := filepath.Join(dir, "in-image.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: "`+reg.Addr+`/flowtest/login:1"}}
baseCommand: [sh, -c, 'cat /etc/image-name "$0"']
inputs: {f: {type: File, inputBinding: {}}}
outputs: {out: stdout}
`)
	writeFile(t, filepath.Join(dir, "data.txt"), "payload\n")
	db := filepath.Join(dir, "flow.db")

	var afterFirst int
	for run := 1; run <= 2; run++ {
		r := flowEnv(t, env, "run", "--no-cache", "--db", db, "--run_compute", "--cluster", "test", "--compute-config", cfg,
			"--outdir", filepath.Join(dir, "out", string(rune('0'+run))), tool, "--f", filepath.Join(dir, "data.txt"))
		if r.code != 0 {
			t.Fatalf("run %d: exit %d: %s", run, r.code, r.stderr)
		}
		var got map[string]struct{ Path string }
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatal(err)
		}
		if text := readFile(t, got["out"].Path); text != "pulled-on-login\npayload\n" {
			t.Errorf("run %d: the step printed %q; want the image's marker and its input", run, text)
		}
		if strings.Contains(r.stderr, "image uploaded") {
			t.Errorf("run %d uploaded an image: %s", run, r.stderr)
		}
		pulls := strings.Count(r.stderr, "image pulled on the cluster")
		reads := reg.ManifestReads(t, "flowtest/login:1")
		switch run {
		case 1:
			if pulls != 1 || reads == 0 {
				t.Errorf("the first run logged %d pulls on the cluster and the registry served %d manifest reads; want one pull: %s", pulls, reads, r.stderr)
			}
			afterFirst = reads
		case 2:
			if pulls != 0 || reads != afterFirst {
				t.Errorf("the second run pulled again: %d pulls logged, manifest reads %d then %d: %s", pulls, afterFirst, reads, r.stderr)
			}
		}
	}

	sifs, _ := filepath.Glob(filepath.Join(workdir, "images", "sha256", "*.sif"))
	if len(sifs) != 1 {
		t.Fatalf("the cluster holds %d images, want 1: %v", len(sifs), sifs)
	}
	data, err := os.ReadFile(sifs[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if filepath.Base(sifs[0]) != hex.EncodeToString(sum[:])+".sif" {
		t.Errorf("the image on the cluster is named %s, not by its SHA-256 %s", filepath.Base(sifs[0]), digest)
	}
	cache := strings.TrimPrefix(env[0], "XDG_CACHE_HOME=")
	_ = filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".sif") {
			t.Errorf("the image was pulled on this machine too: %s", p)
		}
		return nil
	})
	runs := flow(t, "runs", "--db", db, "-o", "json")
	var list []struct{ ID string }
	if err := json.Unmarshal([]byte(runs.stdout), &list); err != nil || len(list) != 2 {
		t.Fatalf("flow runs: %v %s", err, runs.stdout)
	}
	for _, run := range list {
		show := flowEnv(t, env, "show", run.ID, "--db", db, "-o", "json")
		if !strings.Contains(show.stdout, `"image_digest": "`+digest+`"`) {
			t.Errorf("run %s does not record the digest %s of the image pulled on the cluster:\n%s", run.ID, digest, show.stdout)
		}
	}
}

// A registry the login node cannot reach stops the run with one line
// naming the cluster and the image.
func TestPullOnLoginNodeUnreachableRegistry(t *testing.T) {
	cfg, _, env := pullOnLoginCluster(t)
	host := "127.0.0.2:1" // nothing listens on port 1
	image := host + "/flowtest/login:1"
	dir := t.TempDir()
	tool := filepath.Join(dir, "in-image.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: "`+image+`"}}
baseCommand: [echo, hello]
inputs: []
outputs: {out: stdout}
`)
	r := flowEnv(t, append(env, "FLOW_INSECURE_REGISTRIES="+host), "run", "--quiet", "--no-provenance",
		"--run_compute", "--cluster", "test", "--compute-config", cfg, "--outdir", filepath.Join(dir, "out"), tool)
	lines := stderrLines(r.stderr)
	if r.code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "cluster test") || !strings.Contains(lines[0], image) || !strings.Contains(lines[0], "login node") {
		t.Errorf("a registry the login node cannot reach: exit %d, stderr %q; want one line naming cluster test and %s", r.code, r.stderr, image)
	}
}

// Two runs started at once that need the same image on the cluster pull
// it once between them: one pulls under the lock on the login node, the
// other waits for it.
func TestConcurrentRunsPullOnceOnLoginNode(t *testing.T) {
	cfg, workdir, env := pullOnLoginCluster(t)
	reg := siftest.StartRegistryWith(t, siftest.RegistryOptions{IP: "127.0.0.2"})
	reg.Push(t, "flowtest/together:1", siftest.Options{Files: map[string]string{
		"/etc/image-name": "together\n", "/dev/.keep": "", "/proc/.keep": "", "/sys/.keep": "",
	}})
	env = append(env, "FLOW_INSECURE_REGISTRIES="+reg.Addr)
	dir := t.TempDir()
	tool := filepath.Join(dir, "in-image.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: "`+reg.Addr+`/flowtest/together:1"}}
baseCommand: [cat, /etc/image-name]
inputs: []
outputs: {out: stdout}
`)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Go(func() {
			results[i] = flowEnv(t, env, "run", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg,
				"--outdir", filepath.Join(dir, fmt.Sprint("out", i)), tool)
		})
	}
	wg.Wait()
	pulls := 0
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, r.code, r.stderr)
		}
		pulls += strings.Count(r.stderr, "image pulled on the cluster")
	}
	sifs, _ := filepath.Glob(filepath.Join(workdir, "images", "sha256", "*.sif"))
	if pulls != 1 || len(sifs) != 1 {
		t.Errorf("two runs at once: %d pulls logged, %d images on the cluster; want one: %s%s", pulls, len(sifs), results[0].stderr, results[1].stderr)
	}
}
