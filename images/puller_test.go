package images

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeRuntime writes an executable named apptainer that records its
// arguments in args.txt beside it and then runs body.
func fakeRuntime(t *testing.T, body string) (path, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "apptainer")
	argsFile = filepath.Join(dir, "args.txt")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, argsFile
}

func TestRuntimePullerRunsPull(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src.sif")
	want := writeSIF(t, src, sifSpec{})
	rt, argsFile := fakeRuntime(t, `cp `+src+` "$3"`)
	c := &Cache{Dir: t.TempDir(), Puller: RuntimePuller{Runtime: rt}}
	r := Ref{Pull: "debian:stable-slim"}
	img, err := c.Ensure(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if img.Digest != want {
		t.Errorf("digest %s, want %s", img.Digest, want)
	}
	args, _ := os.ReadFile(argsFile)
	got := strings.Fields(string(args))
	if len(got) != 4 || got[0] != "pull" || got[1] != "--force" ||
		!strings.HasPrefix(filepath.Base(got[2]), ".debian:stable-slim.sif.tmp-") || got[3] != "docker://debian:stable-slim" {
		t.Errorf("runtime ran with %q; want pull --force <temporary file> docker://debian:stable-slim", got)
	}
}

func TestRuntimePullerDisableCache(t *testing.T) {
	rt, argsFile := fakeRuntime(t, "exit 0")
	p := RuntimePuller{Runtime: rt, DisableCache: true}
	if err := p.Pull(t.Context(), "library://alpine:3", "/tmp/x.sif"); err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(argsFile)
	if got := strings.Join(strings.Fields(string(args)), " "); got != "pull --force --disable-cache /tmp/x.sif library://alpine:3" {
		t.Errorf("runtime ran with %q", got)
	}
}

func TestRuntimePullerErrorCarriesRuntimeMessage(t *testing.T) {
	rt, _ := fakeRuntime(t, `echo "INFO:    Converting OCI blobs to SIF format" >&2
echo "FATAL:   While making image from oci registry: unauthorized: authentication required" >&2
exit 255`)
	c := &Cache{Dir: t.TempDir(), Puller: RuntimePuller{Runtime: rt}}
	_, err := c.Ensure(t.Context(), Ref{Pull: "private/tool:1"})
	if err == nil || !strings.Contains(err.Error(), `image "private/tool:1" is not in the cache `+c.Dir+" and cannot be pulled: apptainer pull docker://private/tool:1 failed: exit status 255") ||
		!strings.Contains(err.Error(), "FATAL:   While making image from oci registry: unauthorized") {
		t.Errorf("error = %v", err)
	}
}

func TestRuntimePullerStopsOnCancel(t *testing.T) {
	rt, _ := fakeRuntime(t, "exec sleep 30")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := RuntimePuller{Runtime: rt}.Pull(ctx, "debian", filepath.Join(t.TempDir(), "x.sif"))
	// The fake pull sleeps 30 s: ending well before that shows it was
	// stopped, however busy the machine.
	if err == nil || time.Since(start) > 20*time.Second {
		t.Errorf("Pull returned %v after %v; want an error soon after cancellation", err, time.Since(start))
	}
}

func TestRuntimePullerWithoutRuntime(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := RuntimePuller{}.Pull(t.Context(), "debian", "/tmp/x.sif")
	if err == nil || err.Error() != "neither apptainer nor singularity is on PATH" {
		t.Errorf("error = %v", err)
	}
}

// Only a registry configured as insecure is pulled from over plain HTTP;
// the setting goes by the runtime's own name.
func TestRuntimePullerInsecureRegistries(t *testing.T) {
	for _, tc := range []struct {
		runtime, ref, want string
	}{
		{"apptainer", "docker://127.0.0.1:5000/flowtest/x:1", "APPTAINER_NOHTTPS=true"},
		{"singularity", "docker://127.0.0.1:5000/flowtest/x:1", "SINGULARITY_NOHTTPS=true"},
		{"singularity", "docker://127.0.0.1:5001/flowtest/x:1", ""},
		{"singularity", "docker://flowtest/127.0.0.1:5000", ""},
		{"singularity", "library://127.0.0.1:5000/x", ""},
	} {
		dir := t.TempDir()
		rt := filepath.Join(dir, tc.runtime)
		envFile := filepath.Join(dir, "env.txt")
		if err := os.WriteFile(rt, []byte("#!/bin/sh\nenv > "+envFile+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		p := RuntimePuller{Runtime: rt, Insecure: []string{"127.0.0.1:5000", "registry.example.org"}}
		if err := p.Pull(t.Context(), tc.ref, filepath.Join(dir, "x.sif")); err != nil {
			t.Fatal(err)
		}
		env, _ := os.ReadFile(envFile)
		got := ""
		for _, line := range strings.Split(string(env), "\n") {
			if strings.HasSuffix(line, "NOHTTPS=true") {
				got = line
			}
		}
		if got != tc.want {
			t.Errorf("%s pull %s: NOHTTPS setting %q, want %q", tc.runtime, tc.ref, got, tc.want)
		}
	}
}
