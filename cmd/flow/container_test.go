package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/cwltest"
	"github.com/flow-cwl/flow/internal/siftest"
	"github.com/flow-cwl/flow/internal/testcluster"
	"github.com/flow-cwl/flow/internal/testenv"
)

// containerEnv prepares a Singularity runtime (a real one, see
// siftest.Runtime) and an empty image cache, and returns the environment
// a flow process needs to use them.
func containerEnv(t *testing.T) (env []string, cache string) {
	t.Helper()
	rt := siftest.Runtime(t)
	cache = t.TempDir()
	t.Logf("container runtime: %s (stand-in: %v)", rt, siftest.IsStandIn(rt))
	return []string{
		"PATH=" + filepath.Dir(rt) + ":" + os.Getenv("PATH"),
		"FLOW_SINGULARITY_CACHE=" + cache,
		"FLOW_SECRET_TEST=do-not-leak",
	}, cache
}

const containerTool = `cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: "flowtest/marker:1"}
  ShellCommandRequirement: {}
inputs:
  f: File
  code: {type: int, default: 0}
arguments:
  - valueFrom: >
      cat /etc/image-name; pwd; echo "home=$HOME tmp=$TMPDIR";
      cat $(inputs.f.path);
      if (: >> $(inputs.f.path)) 2>/dev/null; then echo input-writable; else echo input-read-only; fi;
      echo "secret=$FLOW_SECRET_TEST";
      exit $(inputs.code)
    shellQuote: false
stdout: out.txt
outputs:
  out: stdout
`

// A step with a DockerRequirement runs in its image: the image's files,
// the CWL spec's fixed directories, its input read-only, nothing of
// flow's environment, and its exit code back.
func TestStepRunsInItsImage(t *testing.T) {
	env, cache := containerEnv(t)
	siftest.Build(t, cache, siftest.Options{Name: "flowtest_marker:1.sif", Files: map[string]string{"/etc/image-name": "marker-image\n"}})
	dir := t.TempDir()
	tool, in := filepath.Join(dir, "tool.cwl"), filepath.Join(dir, "in.txt")
	writeFile(t, tool, containerTool)
	writeFile(t, in, "input-data\n")
	db := filepath.Join(dir, "flow.db")
	r := flowEnv(t, env, "run", "--singularity", "--db", db, "--outdir", filepath.Join(dir, "out"), tool, "--f", in)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := readFile(t, filepath.Join(dir, "out", "out.txt"))
	for _, want := range []string{"marker-image\n", "/var/spool/cwl\n", "home=/var/spool/cwl tmp=/tmp\n", "input-data\n", "input-read-only\n", "secret=\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the step's output lacks %q:\n%s", want, got)
		}
	}
	if readFile(t, in) != "input-data\n" {
		t.Error("the step changed its input file")
	}

	runs := flow(t, "runs", "--db", db, "-o", "json")
	var list []struct{ ID string }
	if err := json.Unmarshal([]byte(runs.stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("flow runs: %v %s", err, runs.stdout)
	}
	show := flowEnv(t, env, "show", list[0].ID, "--db", db, "-o", "json")
	if !strings.Contains(show.stdout, `"image_digest": "sha256:`) || !strings.Contains(show.stdout, "flowtest/marker:1") {
		t.Errorf("flow show -o json does not record the image and its digest:\n%s", show.stdout)
	}
	text := flowEnv(t, env, "show", list[0].ID, "--db", db)
	if !strings.Contains(text.stdout, "flowtest/marker:1@sha256:") {
		t.Errorf("flow show does not name the image with its digest:\n%s", text.stdout)
	}

	fail := flowEnv(t, env, "run", "--singularity", "--no-provenance", "--outdir", filepath.Join(dir, "out2"), tool, "--f", in, "--code", "3")
	if fail.code != 1 || !strings.Contains(fail.stderr, "exited with code 3") {
		t.Errorf("a step exiting 3 in its container: flow exit %d, stderr %s", fail.code, fail.stderr)
	}
}

// The same step, run by an unprivileged user: flow, its image cache and
// the runtime all as that user, whose home and temporary directory are
// its own.
func TestStepRunsInItsImageAsAnUnprivilegedUser(t *testing.T) {
	as := newAccount(t)
	env, cache := containerEnv(t)
	siftest.Build(t, cache, siftest.Options{Name: "flowtest_marker:1.sif", Files: map[string]string{"/etc/image-name": "marker-image\n"}})
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "tool.cwl"), containerTool)
	writeFile(t, filepath.Join(src, "in.txt"), "input-data\n")
	src = as.copy(t, src)
	out := filepath.Join(as.mkdir(t, "work"), "out")
	cmd := exec.Command(as.copy(t, flowBin), "run", "--singularity", "--no-provenance", "--outdir", out,
		filepath.Join(src, "tool.cwl"), "--f", filepath.Join(src, "in.txt"))
	cmd.Dir = filepath.Dir(out)
	cmd.Env = append(os.Environ(), env...)
	as.apply(t, cmd)
	cmd.Env = append(cmd.Env, "TMPDIR="+filepath.Dir(out), "FLOW_SINGULARITY_CACHE="+as.copy(t, cache))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("flow run as %s: %v\n%s", siftest.Unprivileged, err, b)
	}
	got := readFile(t, filepath.Join(out, "out.txt"))
	for _, want := range []string{"marker-image\n", "/var/spool/cwl\n", "input-data\n", "input-read-only\n", "secret=\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the step's output lacks %q:\n%s", want, got)
		}
	}
	if st, err := os.Stat(filepath.Join(out, "out.txt")); err == nil && st.Sys().(*syscall.Stat_t).Uid != uint32(as.uid) {
		t.Errorf("the output belongs to uid %d, not to %s", st.Sys().(*syscall.Stat_t).Uid, siftest.Unprivileged)
	}
}

// A step reruns when its image changes, even under the same name.
func TestChangingTheImageInvalidatesTheCache(t *testing.T) {
	env, cache := containerEnv(t)
	build := func(marker string) {
		siftest.Build(t, cache, siftest.Options{Name: "flowtest_marker:1.sif", Files: map[string]string{"/etc/image-name": marker}})
	}
	build("first\n")
	dir := t.TempDir()
	tool, in := filepath.Join(dir, "tool.cwl"), filepath.Join(dir, "in.txt")
	writeFile(t, tool, containerTool)
	writeFile(t, in, "x\n")
	run := func() string {
		r := flowEnv(t, env, "run", "--singularity", "--db", filepath.Join(dir, "flow.db"), "--outdir", t.TempDir(), tool, "--f", in)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		return r.stderr
	}
	run()
	if !strings.Contains(run(), "reused from the cache") {
		t.Fatal("the second run with the same image did not reuse the step")
	}
	build("second\n")
	if strings.Contains(run(), "reused from the cache") {
		t.Error("the step was reused although its image changed")
	}
}

// A tool that captures its stderr gets its own lines there and none of
// the runtime's: SingularityCE warns about the task's /tmp bind, which
// every CWL task has, unless told to be silent.
func TestCapturedStderrHoldsOnlyTheTools(t *testing.T) {
	env, cache := containerEnv(t)
	siftest.Build(t, cache, siftest.Options{Name: "flowtest_marker:1.sif"})
	dir := t.TempDir()
	tool := filepath.Join(dir, "tool.cwl")
	writeFile(t, tool, `cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: "flowtest/marker:1"}
baseCommand: [sh, -c, "echo to-stderr >&2; echo to-stdout"]
inputs: []
stdout: out.txt
stderr: err.txt
outputs:
  out: stdout
  err: stderr
`)
	r := flowEnv(t, env, "run", "--singularity", "--no-provenance", "--quiet", "--outdir", filepath.Join(dir, "out"), tool)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "out", "err.txt")); got != "to-stderr\n" {
		t.Errorf("the captured stderr holds %q, want only the tool's %q", got, "to-stderr\n")
	}
	if got := readFile(t, filepath.Join(dir, "out", "out.txt")); got != "to-stdout\n" {
		t.Errorf("the captured stdout holds %q", got)
	}
}

// What cannot work says so in one line: no runtime, no image, a file that
// is not an image.
func TestContainerErrors(t *testing.T) {
	env, cache := containerEnv(t)
	dir := t.TempDir()
	tool, in := filepath.Join(dir, "tool.cwl"), filepath.Join(dir, "in.txt")
	writeFile(t, tool, containerTool)
	writeFile(t, in, "x\n")
	run := func(env []string, args ...string) result {
		return flowEnv(t, env, append([]string{"run", "--no-provenance", "--outdir", t.TempDir()}, append(args, tool, "--f", in)...)...)
	}
	check := func(what string, r result, code int, wants ...string) {
		t.Helper()
		lines := stderrLines(r.stderr)
		if r.code != code || len(lines) != 1 {
			t.Errorf("%s: exit %d (want %d), stderr:\n%s", what, r.code, code, r.stderr)
			return
		}
		for _, w := range wants {
			if !strings.Contains(lines[0], w) {
				t.Errorf("%s: the error does not say %q: %s", what, w, lines[0])
			}
		}
	}
	noRuntime := []string{"PATH=/usr/bin:/bin", "FLOW_SINGULARITY_CACHE=" + cache}
	check("--singularity without a runtime", run(noRuntime, "--singularity", "--quiet"), 1, "no Singularity or Apptainer runtime")
	check("a required container without a runtime", run(noRuntime, "--quiet"), 33, "DockerRequirement", "--no-container")
	check("a missing image", run(env, "--singularity", "--quiet"), 1, `"flowtest/marker:1"`, cache)
	writeFile(t, filepath.Join(cache, "flowtest_marker:1.sif"), "not an image")
	check("an invalid SIF", run(env, "--singularity", "--quiet"), 1, "flowtest_marker:1.sif", "not a SIF")
	out := t.TempDir()
	r := flowEnv(t, noRuntime, "run", "--no-provenance", "--no-container", "--quiet", "--outdir", out, tool, "--f", in)
	if text := readFile(t, filepath.Join(out, "out.txt")); r.code != 0 || strings.Contains(text, "/var/spool/cwl") {
		t.Errorf("--no-container should run the step on the host: exit %d, output:\n%s", r.code, text)
	}
}

// The conformance tests tagged docker pass in containers with the real
// runtime, as cwltest judges them. The images they name are Debian root
// file systems built in the test (siftest.Debian), put into flow's image
// cache under the names a pull of debian:stable-slim and bash:4.4 would
// have given them; bash's image keeps its entrypoint, bash, as its
// runscript.
func TestDockerConformanceInSingularity(t *testing.T) {
	source := os.Getenv("CWLTEST")
	if source == "" {
		source = "../../../shared/cwltest"
	}
	if err := cwltest.Available(source, ""); err != nil {
		testenv.SkipOrFail(t, err.Error())
	}
	env, cache := containerEnv(t)
	linkDebianImages(t, cache)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	suite := copySuite(t)
	// Alone, with the runtime itself in each job's sandbox, and as an
	// unprivileged user. On the test cluster: TestDockerConformanceOnCluster.
	for _, v := range []struct {
		args         []string
		unprivileged bool
	}{
		{args: []string{"run", "--singularity", "--no-provenance"}},
		{args: []string{"run", "--singularity", "--sandbox", "--no-provenance"}},
		{args: []string{"run", "--singularity", "--no-provenance"}, unprivileged: true},
	} {
		name := strings.Join(v.args[1:], " ")
		if v.unprivileged {
			name += " as " + siftest.Unprivileged
		}
		t.Run(name, func(t *testing.T) {
			args := v.args
			if slices.Contains(args, "--sandbox") {
				needSandbox(t)
			}
			o := cwltest.Options{Source: source, Suite: suite, Tool: flowBin, Args: args,
				Tags: "docker", Jobs: 2, Timeout: 300, JUnit: filepath.Join(t.TempDir(), "report.xml"), TempDir: t.TempDir()}
			var as *account
			if v.unprivileged {
				as = newAccount(t)
				o.Suite, o.Tool = as.copy(t, suite), as.copy(t, flowBin)
				o.JUnit, o.TempDir = filepath.Join(as.dir, "report.xml"), as.mkdir(t, "tmp")
			}
			checkDockerConformance(t, o, as, cache)
		})
	}
}

// linkDebianImages puts the images the docker-tagged conformance tests
// name into the image cache dir, as flow's pull would name them: Debian
// root file systems built here (siftest.Debian), since this machine
// cannot reach Docker Hub.
func linkDebianImages(t *testing.T, cache string) {
	t.Helper()
	for name, opts := range map[string]siftest.DebianOptions{
		"docker.io/debian:stable-slim": {},
		"docker.io/bash:4.4":           {Runscript: "#!/bin/sh\nexec /bin/bash \"$@\"\n"},
	} {
		cached := filepath.Join(cache, strings.ReplaceAll(name, "/", "_")+".sif")
		if err := os.Symlink(siftest.Debian(t, opts), cached); err != nil {
			t.Fatal(err)
		}
	}
}

// checkDockerConformance runs cwltest as o says (as the account as, if
// not nil, with its own copy of the image cache) and checks that every
// test passed.
func checkDockerConformance(t *testing.T, o cwltest.Options, as *account, cache string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := cwltest.Command(ctx, o)
	if as != nil {
		as.apply(t, cmd)
		cmd.Env = append(cmd.Env, "FLOW_SINGULARITY_CACHE="+as.copy(t, cache))
	}
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cwltest: %v\n%s", err, log)
	}
	cases, err := cwltest.ReadJUnitFile(o.JUnit)
	if err != nil {
		t.Fatalf("%v\ncwltest's log:\n%s", err, log)
	}
	for _, c := range cases {
		if c.Status != cwltest.Passed {
			t.Errorf("%s: %s: %s\n%s", c.ID, c.Status, c.Message, c.Stderr)
		}
	}
	if len(cases) < 8 {
		t.Errorf("only %d tests are tagged docker, want the suite's 8", len(cases))
	}
}

// account is the unprivileged user (siftest.Account) and a directory of
// its own, for running flow as that user.
type account struct {
	uid, gid int
	dir      string
}

func newAccount(t *testing.T) *account {
	uid, gid, dir := siftest.Account(t)
	return &account{uid, gid, dir}
}

// mkdir makes a directory the account owns.
func (a *account) mkdir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join(a.dir, name)
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, a.uid, a.gid); err != nil {
		t.Fatal(err)
	}
	return d
}

// copy copies a file or tree into the account's directory, following
// symbolic links, and gives the account the copy.
func (a *account) copy(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(a.dir, filepath.Base(src))
	if out, err := exec.Command("cp", "-rL", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp %s: %v: %s", src, err, out)
	}
	if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", a.uid, a.gid), dst).CombinedOutput(); err != nil {
		t.Fatalf("chown %s: %v: %s", dst, err, out)
	}
	return dst
}

// apply makes cmd run as the account, with a home and data directory of
// its own.
func (a *account) apply(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	home := a.mkdir(t, "home")
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}
	cmd.Env = append(cmd.Env, "HOME="+home, "XDG_DATA_HOME="+home, "XDG_CACHE_HOME="+home, "USER="+siftest.Unprivileged)
}

// copySuite copies the CWL conformance suite into a scratch directory, so
// that a runner bug cannot change it.
func copySuite(t *testing.T) string {
	t.Helper()
	src := os.Getenv("CWL_SUITE")
	if src == "" {
		src = "../../../shared/cwl-v1.2"
	}
	if _, err := os.Stat(filepath.Join(src, "conformance_tests.yaml")); err != nil {
		testenv.SkipOrFail(t, "no CWL conformance suite at "+src+" (set CWL_SUITE)")
	}
	dst := t.TempDir()
	if out, err := exec.Command("cp", "-r", src+"/.", dst).CombinedOutput(); err != nil {
		t.Fatalf("copying the suite: %v: %s", err, out)
	}
	return dst
}

// registryEnv starts a local registry (siftest.StartRegistry) and returns
// it with the environment that lets flow pull from it: the registry named
// as insecure in flow's configuration (it speaks plain HTTP), and the
// runtime's own cache off, so that every pull it makes shows in the
// registry's log (a cached digest would be read less).
func registryEnv(t *testing.T, env []string) (*siftest.Registry, []string) {
	t.Helper()
	if rt := siftest.Runtime(t); siftest.IsStandIn(rt) {
		testenv.SkipOrFail(t, "pulling from a registry needs a real runtime; the stand-in cannot")
	}
	reg := siftest.StartRegistry(t)
	return reg, append(env, "FLOW_INSECURE_REGISTRIES="+reg.Addr,
		"SINGULARITY_DISABLE_CACHE=true", "APPTAINER_DISABLE_CACHE=true")
}

// toolPulling is containerTool with its dockerPull replaced.
func toolPulling(t *testing.T, dir, image string) string {
	t.Helper()
	tool := filepath.Join(dir, "tool-"+strings.NewReplacer("/", "_", ":", "_").Replace(image)+".cwl")
	writeFile(t, tool, strings.Replace(containerTool, `"flowtest/marker:1"`, `"`+image+`"`, 1))
	return tool
}

// Ten runs at once that need the same missing image pull it once, and all
// ten work; flow images then lists it. The pulls are counted in the
// registry's own access log, against a pull of another image by flow
// images pull: the runtime reads a manifest more than once per pull.
func TestConcurrentRunsPullAnImageOnce(t *testing.T) {
	env, cache := containerEnv(t)
	reg, env := registryEnv(t, env)
	reg.Push(t, "flowtest/marker:1", siftest.Options{Files: map[string]string{"/etc/image-name": "pulled\n"}})
	reg.Push(t, "flowtest/marker:once", siftest.Options{Files: map[string]string{"/etc/image-name": "pulled once\n"}})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	writeFile(t, in, "x\n")
	if r := flowEnv(t, env, "images", "pull", toolPulling(t, dir, reg.Addr+"/flowtest/marker:once")); r.code != 0 {
		t.Fatalf("flow images pull: exit %d: %s", r.code, r.stderr)
	}
	onePull := reg.ManifestGets(t, "flowtest/marker:once")
	if onePull == 0 {
		t.Fatal("the registry's log shows no manifest GET for a pull that worked")
	}
	tool := toolPulling(t, dir, reg.Addr+"/flowtest/marker:1")

	var wg sync.WaitGroup
	results := make([]result, 10)
	for i := range results {
		wg.Go(func() {
			out := filepath.Join(dir, fmt.Sprint("out", i))
			results[i] = flowEnv(t, env, "run", "--singularity", "--no-provenance", "--quiet", "--outdir", out, tool, "--f", in)
		})
	}
	wg.Wait()
	for i, r := range results {
		out := filepath.Join(dir, fmt.Sprint("out", i), "out.txt")
		if r.code != 0 || !strings.Contains(readFile(t, out), "pulled") {
			t.Errorf("run %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	if n := reg.ManifestGets(t, "flowtest/marker:1"); n != onePull {
		t.Errorf("ten runs read the manifest %d times; one pull reads it %d times", n, onePull)
	}
	ls := flowEnv(t, env, "images", "ls")
	if ls.code != 0 || !strings.Contains(ls.stdout, reg.Addr+"_flowtest_marker:1.sif") || !strings.Contains(ls.stdout, "sha256:") || !strings.Contains(ls.stdout, cache) {
		t.Errorf("flow images ls: exit %d:\n%s%s", ls.code, ls.stdout, ls.stderr)
	}
}

// flow images pull fetches what a workflow needs before it runs, and
// names an image that cannot be had.
func TestImagesPull(t *testing.T) {
	env, _ := containerEnv(t)
	reg, env := registryEnv(t, env)
	dir := t.TempDir()
	tool := toolPulling(t, dir, reg.Addr+"/flowtest/marker:1")
	r := flowEnv(t, env, "images", "pull", tool)
	if r.code != 1 || !strings.Contains(r.stderr, `"`+reg.Addr+`/flowtest/marker:1"`) {
		t.Errorf("pulling an image the registry lacks: exit %d: %s", r.code, r.stderr)
	}
	reg.Push(t, "flowtest/marker:1", siftest.Options{})
	r = flowEnv(t, env, "images", "pull", tool)
	if r.code != 0 || !strings.Contains(r.stdout, reg.Addr+"/flowtest/marker:1") || !strings.Contains(r.stdout, "sha256:") {
		t.Errorf("flow images pull: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// A registry is spoken to over plain HTTP only when flow's configuration
// names it ($FLOW_INSECURE_REGISTRIES). 127.0.0.1 and localhost are
// always plain HTTP to the runtimes, so this registry listens on
// 127.0.0.2, another loopback address.
func TestInsecureRegistryIsConfigured(t *testing.T) {
	env, _ := containerEnv(t)
	if rt := siftest.Runtime(t); siftest.IsStandIn(rt) {
		testenv.SkipOrFail(t, "pulling from a registry needs a real runtime; the stand-in cannot")
	}
	reg := siftest.StartRegistryWith(t, siftest.RegistryOptions{IP: "127.0.0.2"})
	env = append(env, "SINGULARITY_DISABLE_CACHE=true", "APPTAINER_DISABLE_CACHE=true")
	reg.Push(t, "flowtest/marker:1", siftest.Options{})
	tool := toolPulling(t, t.TempDir(), reg.Addr+"/flowtest/marker:1")
	r := flowEnv(t, env, "images", "pull", tool)
	if r.code != 1 || !strings.Contains(r.stderr, "https://"+reg.Addr) {
		t.Errorf("a plain-HTTP registry not configured as insecure: exit %d, want 1 and an HTTPS error: %s%s", r.code, r.stdout, r.stderr)
	}
	r = flowEnv(t, append(env, "FLOW_INSECURE_REGISTRIES=other.example:5000, "+reg.Addr), "images", "pull", tool)
	if r.code != 0 || !strings.Contains(r.stdout, reg.Addr+"/flowtest/marker:1") {
		t.Errorf("configured as insecure: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// A registry with a certificate from a private CA is pulled from over
// HTTPS once flow's configuration names a directory holding that CA
// ($FLOW_REGISTRY_CA_DIR), and refused without it.
func TestRegistryWithAPrivateCA(t *testing.T) {
	env, _ := containerEnv(t)
	if rt := siftest.Runtime(t); siftest.IsStandIn(rt) {
		testenv.SkipOrFail(t, "pulling from a registry needs a real runtime; the stand-in cannot")
	}
	reg := siftest.StartRegistryWith(t, siftest.RegistryOptions{IP: "127.0.0.2", TLS: true})
	env = append(env, "SINGULARITY_DISABLE_CACHE=true", "APPTAINER_DISABLE_CACHE=true")
	reg.Push(t, "flowtest/marker:1", siftest.Options{})
	tool := toolPulling(t, t.TempDir(), reg.Addr+"/flowtest/marker:1")
	r := flowEnv(t, env, "images", "pull", tool)
	if r.code != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("a registry whose CA is not trusted: exit %d, want 1 and a certificate error: %s%s", r.code, r.stdout, r.stderr)
	}
	r = flowEnv(t, append(env, "FLOW_REGISTRY_CA_DIR="+reg.CADir), "images", "pull", tool)
	if r.code != 0 || !strings.Contains(r.stdout, reg.Addr+"/flowtest/marker:1") {
		t.Errorf("with the registry's CA configured: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// The same containerised step runs inside a Slurm job on the test
// cluster, reached over SSH.
func TestStepRunsInItsImageOnSlurm(t *testing.T) {
	c := testcluster.Require(t)
	env, cache := containerEnv(t)
	siftest.Build(t, cache, siftest.Options{Name: "flowtest_marker:1.sif", Files: map[string]string{"/etc/image-name": "marker-image\n"}})
	dir := t.TempDir()
	tool, in := filepath.Join(dir, "tool.cwl"), filepath.Join(dir, "in.txt")
	writeFile(t, tool, containerTool)
	writeFile(t, in, "input-data\n")
	r := flowEnv(t, env, "run", "--singularity", "--run_compute", "--cluster", "test", "--compute-config", sshConfig(t, c),
		"--db", filepath.Join(dir, "flow.db"), "--outdir", filepath.Join(dir, "out"), tool, "--f", in)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := readFile(t, filepath.Join(dir, "out", "out.txt"))
	for _, want := range []string{"marker-image\n", "/var/spool/cwl\n", "input-data\n", "input-read-only\n", "secret=\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the Slurm job's output lacks %q:\n%s", want, got)
		}
	}
	fail := flowEnv(t, env, "run", "--singularity", "--run_compute", "--cluster", "test", "--compute-config", sshConfig(t, c),
		"--no-provenance", "--outdir", filepath.Join(dir, "out2"), tool, "--f", in, "--code", "3")
	if fail.code != 1 || !strings.Contains(fail.stderr, "exited with code 3") {
		t.Errorf("a step exiting 3 in its container on Slurm: flow exit %d, stderr %s", fail.code, fail.stderr)
	}
}
