package siftest

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// run runs the runtime and returns its stdout, stderr and exit code.
func run(t *testing.T, env []string, rt string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(rt, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", rt, err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

func TestBuiltImageRuns(t *testing.T) {
	rt := Runtime(t)
	img := Build(t, t.TempDir(), Options{
		Files:  map[string]string{"/etc/image-name": "marker\n"},
		Labels: map[string]string{"org.flow.test": "yes"},
	})
	if labels, err := ReadLabels(img); err != nil || labels["org.flow.test"] != "yes" {
		t.Errorf("labels read back: %v, %v", labels, err)
	}
	script := `cat /etc/image-name; for a in ` + strings.Join(Applets[:len(Applets)-1], " ") + `; do command -v $a >/dev/null || echo missing $a; done`
	out, errOut, code := run(t, nil, rt, "--quiet", "exec", "--containall", img, "sh", "-c", script)
	if code != 0 || out != "marker\n" {
		t.Errorf("in the image: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestStandInBehavesLikeARuntime(t *testing.T) {
	rt := Runtime(t)
	if !IsStandIn(rt) {
		t.Skip("checks of the stand-in itself")
	}
	img := Build(t, t.TempDir(), Options{})
	out, _, _ := run(t, nil, rt, "--version")
	if !strings.HasPrefix(out, "flow-test-singularity version ") {
		t.Errorf("--version printed %q", out)
	}
	_, errOut, code := run(t, nil, rt, "exec", "--containall", img, "no-such-command")
	if code != 255 || !strings.Contains(errOut, `"no-such-command": executable file not found in $PATH`) {
		t.Errorf("a missing command: exit %d, stderr %q", code, errOut)
	}
	// The --env parser's quirks are the real one's (a pflag
	// string-to-string map): with one '=' the whole is trimmed of double
	// quotes, so only the trailing one goes; with more it is CSV.
	out, errOut, code = run(t, nil, rt, "-q", "exec", "--containall", "--env", `Q="quoted"`, "--env", "A=1,B=x=y", img, "env")
	lines := "\n" + out
	if code != 0 || !strings.Contains(lines, "\nQ=\"quoted\n") || !strings.Contains(lines, "\nA=1\n") || !strings.Contains(lines, "\nB=x=y\n") {
		t.Errorf("--env parsing: exit %d, stderr %q, env:\n%s", code, errOut, out)
	}
	_, errOut, code = run(t, nil, rt, "exec", img, "true")
	if code != 255 || !strings.Contains(errOut, "contain") {
		t.Errorf("an uncontained run: exit %d, stderr %q; want it refused", code, errOut)
	}
}

func TestStandInPullsFromTheTestRegistry(t *testing.T) {
	rt := Runtime(t)
	if !IsStandIn(rt) {
		t.Skip("the test registry is the stand-in's")
	}
	img, err := os.ReadFile(Build(t, t.TempDir(), Options{}))
	if err != nil {
		t.Fatal(err)
	}
	var pulls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/example/busybox:1.0" {
			http.NotFound(w, r)
			return
		}
		pulls.Add(1)
		w.Write(img)
	}))
	defer srv.Close()
	env := []string{"FLOW_TEST_REGISTRY=" + srv.URL}
	dest := filepath.Join(t.TempDir(), "busybox.sif")
	if _, errOut, code := run(t, env, rt, "pull", dest, "docker://example/busybox:1.0"); code != 0 {
		t.Fatalf("pull: exit %d: %s", code, errOut)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, img) {
		t.Error("the pulled file is not the registry's")
	}
	if _, _, code := run(t, env, rt, "pull", dest, "docker://example/busybox:1.0"); code == 0 {
		t.Error("pull over an existing file without --force succeeded")
	}
	if _, _, code := run(t, env, rt, "pull", "--force", dest, "docker://example/busybox:1.0"); code != 0 {
		t.Error("pull --force failed")
	}
	if _, _, code := run(t, env, rt, "pull", dest+"2", "docker://example/missing:1.0"); code == 0 {
		t.Error("pulling an image the registry lacks succeeded")
	}
	if n := pulls.Load(); n != 2 {
		t.Errorf("the registry served %d pulls, want 2", n)
	}
}

func TestBuildIsReproducible(t *testing.T) {
	opts := Options{Files: map[string]string{"/etc/image-name": "a\n", "/etc/other": "b\n"}, Labels: map[string]string{"k": "v"}}
	a, errA := os.ReadFile(Build(t, t.TempDir(), opts))
	b, errB := os.ReadFile(Build(t, t.TempDir(), opts))
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("two builds from the same options differ (%v, %v)", errA, errB)
	}
	opts.Files["/etc/image-name"] = "c\n"
	if c, _ := os.ReadFile(Build(t, t.TempDir(), opts)); bytes.Equal(a, c) {
		t.Error("images with different files are the same")
	}
	opts.Runscript = "#!/bin/sh\nexec /bin/sh \"$@\"\n"
	c, errC := os.ReadFile(Build(t, t.TempDir(), opts))
	d, errD := os.ReadFile(Build(t, t.TempDir(), opts))
	if errC != nil || errD != nil || !bytes.Equal(c, d) {
		t.Errorf("two builds with a runscript differ (%v, %v)", errC, errD)
	}
}

// run executes the image's runscript with its arguments; without one, real
// runtimes hand the arguments to /bin/sh, and fail only when that is
// missing too.
func TestRunExecutesTheRunscript(t *testing.T) {
	rt := Runtime(t)
	dir := t.TempDir()
	withScript := Build(t, dir, Options{Name: "script.sif", Runscript: "#!/bin/sh\necho \"runscript got $# args: $*\"\n"})
	out, errOut, code := run(t, nil, rt, "--quiet", "run", "--containall", "--pwd", "/tmp", withScript, "-c", "x y")
	if code != 0 || out != "runscript got 2 args: -c x y\n" {
		t.Errorf("run with a runscript: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = run(t, nil, rt, "--quiet", "exec", "--containall", withScript, "stat", "-c", "%a", "/.singularity.d/runscript")
	if code != 0 || out != "755\n" {
		t.Errorf("the runscript's mode: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	plain := Build(t, dir, Options{Name: "plain.sif"})
	out, errOut, code = run(t, nil, rt, "--quiet", "run", "--containall", plain, "-c", "echo from sh")
	if code != 0 || out != "from sh\n" {
		t.Errorf("run without a runscript: exit %d, stdout %q, stderr %q; want /bin/sh to get the arguments", code, out, errOut)
	}
	noShell := Build(t, dir, Options{Name: "noshell.sif", NoShell: true})
	_, errOut, code = run(t, nil, rt, "--quiet", "run", "--containall", noShell, "-c", "echo from sh")
	if code == 0 || !strings.Contains(errOut, "No runscript and no /bin/sh") {
		t.Errorf("run without a runscript or /bin/sh: exit %d, stderr %q; want it refused", code, errOut)
	}
	if out, _, code := run(t, nil, rt, "--quiet", "exec", "--containall", noShell, "echo", "ok"); code != 0 || out != "ok\n" {
		t.Errorf("NoShell took more than /bin/sh away: exit %d, stdout %q", code, out)
	}
}

// The Debian image is what the CWL tests' Docker images are: bash,
// coreutils and a Debian release, run by the same runtime; a second call
// takes it from the cache rather than building it again.
func TestDebianImageRuns(t *testing.T) {
	rt := Runtime(t)
	img := Debian(t, DebianOptions{Runscript: "#!/bin/sh\nexec /bin/bash \"$@\"\n"})
	out, errOut, code := run(t, nil, rt, "--silent", "exec", "--containall", img, "bash", "-c", "test -s /etc/debian_version && echo ok; ls -d /dev /proc /sys")
	if code != 0 || out != "ok\n/dev\n/proc\n/sys\n" {
		t.Errorf("in the Debian image: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = run(t, nil, rt, "--silent", "run", "--containall", img, "-c", "echo entrypoint $0")
	if code != 0 || out != "entrypoint /bin/bash\n" {
		t.Errorf("run with bash as the entrypoint: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	st, err := os.Stat(img)
	if err != nil {
		t.Fatal(err)
	}
	again := Debian(t, DebianOptions{Runscript: "#!/bin/sh\nexec /bin/bash \"$@\"\n"})
	if st2, err := os.Stat(again); again != img || err != nil || !st2.ModTime().Equal(st.ModTime()) {
		t.Errorf("the second call gave %s (%v), not the cached %s", again, err, img)
	}
}

// An image pushed to the local registry comes back through the runtime's
// own pull, over plain HTTP, and runs; the registry's log shows the pull.
func TestPullFromTheLocalRegistry(t *testing.T) {
	rt := Runtime(t)
	if IsStandIn(rt) {
		t.Skip("the stand-in does not speak the registry protocol")
	}
	reg := StartRegistry(t)
	ref := reg.Push(t, "flowtest/pushed:1", Options{Files: map[string]string{"/etc/image-name": "pushed\n"}})
	dest := filepath.Join(t.TempDir(), "pulled.sif")
	env := []string{"SINGULARITY_DISABLE_CACHE=true", "APPTAINER_DISABLE_CACHE=true"}
	if _, errOut, code := run(t, env, rt, "--silent", "pull", dest, ref); code != 0 {
		t.Fatalf("pull %s: exit %d: %s", ref, code, errOut)
	}
	if out, errOut, code := run(t, nil, rt, "--silent", "exec", "--containall", dest, "cat", "/etc/image-name"); code != 0 || out != "pushed\n" {
		t.Errorf("the pulled image: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := reg.ManifestGets(t, "flowtest/pushed:1"); n < 1 {
		t.Errorf("the registry logged no GET of the manifest, yet the pull worked")
	}
	if n := reg.ManifestGets(t, "flowtest/pushed:2"); n != 0 {
		t.Errorf("the registry logged %d GETs of a tag nobody pulled", n)
	}
}

// The runtime's tests, again as an unprivileged user; the Debian image
// and the registry stay root's (they are built and started once).
func TestRuntimeAsAnUnprivilegedUser(t *testing.T) {
	RerunUnprivileged(t, "^(TestBuiltImageRuns|TestRunExecutesTheRunscript)$")
}
