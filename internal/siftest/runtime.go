package siftest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// RealVar, set to 0, makes Runtime use the stand-in even where a real
// runtime works, for a developer checking the stand-in itself. CI
// (testenv.Required) refuses it.
const RealVar = "FLOW_TEST_REAL_RUNTIME"

// installed are where a real runtime is looked for after PATH: the
// prefix scripts/test unpacks SingularityCE into.
var installed = []string{"/opt/singularity/bin/singularity", "/opt/apptainer/bin/apptainer"}

// standInPackage is the stand-in's import path, for go build.
const standInPackage = "github.com/flow-cwl/flow/internal/siftest/fakesingularity"

var standIn struct {
	once sync.Once
	mu   sync.Mutex
	path string
	err  error
	skip string // why the stand-in cannot run here, if it cannot
}

var realRuntime struct {
	once sync.Once
	path string // a real runtime that ran a container here
	why  string // why there is none, if there is none
}

// Runtime returns the path of a `singularity` program for tests: a real
// apptainer or singularity (from PATH, else /opt/singularity) that can run
// a container on this machine, or else the stand-in, built once per test
// binary. In CI (FLOW_REQUIRE_INTEGRATION=1) there is no else: a test that
// would run against the stand-in fails, saying why the real runtime
// cannot be used. Elsewhere the test skips when neither can run.
func Runtime(t testing.TB) string {
	t.Helper()
	forced := os.Getenv(RealVar) == "0"
	if forced && testenv.Required() {
		t.Fatalf("%s=0 asks for the stand-in runtime, which CI (%s=1) never uses", RealVar, testenv.RequireVar)
	}
	if !forced {
		realRuntime.once.Do(findReal)
		if realRuntime.path != "" {
			return realRuntime.path
		}
		if testenv.Required() {
			t.Fatalf("no real container runtime can run here (%s), and CI (%s=1) never uses the stand-in", realRuntime.why, testenv.RequireVar)
		}
	}
	standIn.once.Do(prepareStandIn)
	standIn.mu.Lock()
	p, err, skip := standIn.path, standIn.err, standIn.skip
	standIn.mu.Unlock()
	if skip != "" {
		testenv.SkipOrFail(t, skip)
	}
	if err != nil {
		t.Fatalf("siftest: building the stand-in Singularity runtime: %v", err)
	}
	return p
}

// findReal looks for a real runtime and checks that it runs a container
// from an image Build makes: one that is installed but cannot work here
// (no user namespaces, a missing library) is no runtime for the tests.
func findReal() {
	var candidates []string
	for _, name := range []string{"apptainer", "singularity"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	candidates = append(candidates, installed...)
	realRuntime.why = "neither apptainer nor singularity is on PATH or in /opt/singularity; scripts/test installs SingularityCE from ../shared/runtimes"
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := tryRuntime(p); err != nil {
			realRuntime.why = fmt.Sprintf("%s cannot run a container: %v", p, err)
			continue
		}
		realRuntime.path = p
		return
	}
}

// tryRuntime runs `true` in a fresh test image with the runtime at p.
func tryRuntime(p string) error {
	dir, err := os.MkdirTemp("", "siftest-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	img := filepath.Join(dir, "probe.sif")
	if err := build(img, Options{}); err != nil {
		return err
	}
	cmd := exec.Command(p, "--silent", "exec", "--containall", img, "true")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// IsStandIn reports whether the runtime at p, as returned by Runtime, is
// the stand-in rather than a real Singularity or Apptainer.
func IsStandIn(p string) bool {
	standIn.mu.Lock()
	defer standIn.mu.Unlock()
	return p != "" && p == standIn.path
}

func prepareStandIn() {
	skip := checkStandInTools()
	var p string
	var err error
	if skip == "" {
		p, err = buildStandIn()
	}
	standIn.mu.Lock()
	standIn.path, standIn.err, standIn.skip = p, err, skip
	standIn.mu.Unlock()
}

// checkStandInTools says what the stand-in lacks on this machine, or "".
func checkStandInTools() string {
	for _, tool := range []struct{ name, pkg string }{
		{"bwrap", "bubblewrap"}, {"unsquashfs", "squashfs-tools"},
	} {
		if _, err := exec.LookPath(tool.name); err != nil {
			return fmt.Sprintf("the stand-in Singularity runtime needs %s (Debian package %s)", tool.name, tool.pkg)
		}
	}
	// bwrap needs user namespaces when not run as root; a container
	// without them (or a locked-down kernel) cannot sandbox anything.
	if out, err := exec.Command("bwrap", "--ro-bind", "/", "/", "true").CombinedOutput(); err != nil {
		return fmt.Sprintf("bwrap cannot create a sandbox here (%v: %s); the stand-in Singularity runtime needs it", err, out)
	}
	return ""
}

// buildStandIn compiles the stand-in into a directory named by a hash of
// its sources, so that repeated test runs reuse it; the rename makes
// concurrent builds by several test binaries safe.
func buildStandIn() (string, error) {
	key, err := standInKey()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), "flow-fakesingularity-"+key)
	out := filepath.Join(dir, "singularity")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "build", "-o", tmp, standInPackage)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", standInPackage, err, b)
	}
	return out, os.Rename(tmp, out)
}

// standInKey hashes the stand-in's sources, the module's requirements and
// the Go version. When the sources cannot be found (a -trimpath build),
// the key is unique to this process, so nothing stale is reused.
func standInKey() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(self), "fakesingularity")
	files, _ := filepath.Glob(filepath.Join(src, "*.go"))
	if !ok || len(files) == 0 {
		return fmt.Sprintf("pid%d", os.Getpid()), nil
	}
	module := filepath.Dir(filepath.Dir(filepath.Dir(self)))
	files = append(files, filepath.Join(module, "go.mod"), filepath.Join(module, "go.sum"))
	h := sha256.New()
	h.Write([]byte(runtime.Version()))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
