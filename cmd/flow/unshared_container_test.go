package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/flow-cwl/flow/internal/siftest"
	"github.com/flow-cwl/flow/internal/testcluster"
	"github.com/flow-cwl/flow/internal/testenv"
)

// clusterRuntime is the container runtime on the test cluster's nodes:
// they are this machine, where scripts/test installs SingularityCE.
const clusterRuntime = "/opt/singularity/bin/singularity"

// A step with a DockerRequirement runs on a cluster that does not share
// flow's file system, with the runtime the cluster's configuration names;
// its image is uploaded to the cluster's workdir once, not again by a
// second run, and the step reads its input at the container path.
func TestContainerStepOnUnsharedCluster(t *testing.T) {
	c := testcluster.Require(t)
	if _, err := os.Stat(clusterRuntime); err != nil {
		testenv.SkipOrFail(t, "no SingularityCE at "+clusterRuntime+" (scripts/test installs it from ../shared/runtimes)")
	}
	cfg, workdir := unsharedConfig(t, c)
	appendFile(t, cfg, "    containers: {singularity: "+clusterRuntime+"}\n")
	dir := t.TempDir()
	// The mount points a real runtime needs, as Docker-derived images have.
	sif := siftest.Build(t, dir, siftest.Options{Files: map[string]string{
		"/etc/image-name": "unshared-image\n", "/dev/.keep": "", "/proc/.keep": "", "/sys/.keep": "",
	}})
	tool := filepath.Join(dir, "in-image.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: `+sif+`}}
baseCommand: [sh, -c, 'cat /etc/image-name "$0"; echo "$0"']
inputs: {f: {type: File, inputBinding: {}}}
outputs: {out: stdout}
`)
	writeFile(t, filepath.Join(dir, "data.txt"), "payload\n")
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}

	var inode uint64
	for run := 1; run <= 2; run++ {
		r := flowEnv(t, env, "run", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg,
			"--outdir", filepath.Join(dir, "out", string(rune('0'+run))), tool, "--f", filepath.Join(dir, "data.txt"))
		if r.code != 0 {
			t.Fatalf("run %d: exit %d: %s", run, r.code, r.stderr)
		}
		var got map[string]struct{ Path string }
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatal(err)
		}
		text := readFile(t, got["out"].Path)
		lines := strings.Split(strings.TrimSpace(text), "\n")
		if len(lines) != 3 || lines[0] != "unshared-image" || lines[1] != "payload" || !strings.HasPrefix(lines[2], "/var/lib/cwl/") {
			t.Errorf("run %d: the step printed %q; want the image's marker, the input, and its container path", run, text)
		}
		sifs, _ := filepath.Glob(filepath.Join(workdir, "images", "sha256", "*.sif"))
		if len(sifs) != 1 {
			t.Fatalf("run %d: the cluster holds %d images, want 1: %v", run, len(sifs), sifs)
		}
		fi, err := os.Stat(sifs[0])
		if err != nil {
			t.Fatal(err)
		}
		ino := fi.Sys().(*syscall.Stat_t).Ino
		uploads := strings.Count(r.stderr, "image uploaded")
		switch {
		case run == 1 && uploads != 1:
			t.Errorf("the first run uploaded the image %d times, want once: %s", uploads, r.stderr)
		case run == 2 && (uploads != 0 || ino != inode):
			t.Errorf("the second run uploaded the image again (%d uploads logged, inode %d then %d)", uploads, inode, ino)
		}
		inode = ino
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// A container runtime path that is wrong on the cluster is one line from
// `flow clusters status` and one line when a step needs it, each naming
// the path and the configuration key; a right one is reported with its
// version.
func TestWrongClusterRuntimeIsOneClearLine(t *testing.T) {
	c := testcluster.Require(t)
	cfg, _ := unsharedConfig(t, c)
	wrong := "/nonexistent/bin/singularity"
	appendFile(t, cfg, "    containers: {singularity: "+wrong+"}\n")
	dir := t.TempDir()
	sif := siftest.Build(t, dir, siftest.Options{})
	tool := filepath.Join(dir, "in-image.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: `+sif+`}}
baseCommand: [echo, hello]
inputs: []
outputs: {out: stdout}
`)
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	r := flowEnv(t, env, "run", "--quiet", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--outdir", filepath.Join(dir, "out"), tool)
	lines := stderrLines(r.stderr)
	if r.code == 0 || len(lines) != 1 || !strings.Contains(lines[0], wrong) || !strings.Contains(lines[0], "containers.singularity") {
		t.Errorf("a run with a wrong runtime path: exit %d, stderr %q; want one line naming %s and containers.singularity", r.code, r.stderr, wrong)
	}

	r = flow(t, "clusters", "status", "--compute-config", cfg)
	if !strings.Contains(r.stdout, "test: the container runtime "+wrong+" (containers.singularity) does not run on the cluster") {
		t.Errorf("flow clusters status does not report the wrong runtime path:\n%s%s", r.stdout, r.stderr)
	}
	if _, err := os.Stat(clusterRuntime); err == nil {
		cfg2, _ := unsharedConfig(t, c)
		appendFile(t, cfg2, "    containers: {singularity: "+clusterRuntime+"}\n")
		r = flow(t, "clusters", "status", "--compute-config", cfg2)
		if !strings.Contains(r.stdout, "test: containers run with singularity-ce version") {
			t.Errorf("flow clusters status does not report the runtime's version:\n%s%s", r.stdout, r.stderr)
		}
	}
}

// On a cluster sharing flow's files, a step with a DockerRequirement runs
// with the runtime the cluster's configuration names, not one looked for
// on this machine (here, the one this machine is told to use is missing).
func TestContainerStepUsesTheClusterRuntime(t *testing.T) {
	c := testcluster.Require(t)
	if _, err := os.Stat(clusterRuntime); err != nil {
		testenv.SkipOrFail(t, "no SingularityCE at "+clusterRuntime+" (scripts/test installs it from ../shared/runtimes)")
	}
	cfg := computeConfig(t, c)
	appendFile(t, cfg, "    containers: {singularity: "+clusterRuntime+"}\n")
	dir := t.TempDir()
	sif := siftest.Build(t, dir, siftest.Options{Files: map[string]string{
		"/etc/image-name": "shared-image\n", "/dev/.keep": "", "/proc/.keep": "", "/sys/.keep": "",
	}})
	tool := filepath.Join(dir, "in-image.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: `+sif+`}}
baseCommand: [cat, /etc/image-name]
inputs: []
outputs: {out: stdout}
`)
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), runtimeEnv + "=/nonexistent/singularity"}
	r := flowEnv(t, env, "run", "--quiet", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--outdir", filepath.Join(dir, "out"), tool)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got map[string]struct{ Path string }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if text := readFile(t, got["out"].Path); text != "shared-image\n" {
		t.Errorf("the step printed %q, want the image's marker", text)
	}
}

// A step that must run in a container, on a cluster without a shared file
// system whose configuration names no runtime, is refused saying that,
// not that no runtime is installed.
func TestDockerRequirementOnUnsharedClusterWithoutRuntime(t *testing.T) {
	c := testcluster.Require(t)
	cfg, _ := unsharedConfig(t, c)
	dir := t.TempDir()
	tool := filepath.Join(dir, "in-image.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: debian:stable-slim}}
baseCommand: [echo, hello]
inputs: []
outputs: {out: stdout}
`)
	r := flow(t, "run", "--quiet", "--no-provenance", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--outdir", filepath.Join(dir, "out"), tool)
	lines := stderrLines(r.stderr)
	if r.code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "shared_fs: false") || !strings.Contains(lines[0], "containers.singularity") || strings.Contains(lines[0], "no Singularity or Apptainer runtime is available") {
		t.Errorf("exit %d, stderr %q; want one line saying the cluster has no container runtime configured", r.code, r.stderr)
	}
}
