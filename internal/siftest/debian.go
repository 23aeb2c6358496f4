package siftest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// Debian images stand in for the Docker Hub images the CWL conformance
// tests name (debian:stable-slim, bash:4.4): a Debian root file system
// built by mmdebstrap (variant minbase, the Essential packages, bash among
// them) from the mirror apt uses on this machine, packed like any other
// test image. There is no network here to pull the real ones, and an
// image from Debian's own packages is what those images hold.
//
// Building one takes about a minute, so each is kept in CacheDir under a
// name derived from everything that went into it, and built again only
// when that changes.

// CacheVar names the directory where built Debian images are kept between
// test runs; by default "flow-test-images" in the user's cache directory.
const CacheVar = "FLOW_TEST_IMAGE_CACHE"

// DebianOptions describe a Debian image.
type DebianOptions struct {
	// Runscript is the image's runscript (see Options.Runscript), for
	// images whose Docker original has an ENTRYPOINT.
	Runscript string
}

// CacheDir is where Debian images are kept between test runs.
func CacheDir() (string, error) {
	if d := os.Getenv(CacheVar); d != "" {
		return filepath.Abs(d)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for test images: set %s (%v)", CacheVar, err)
	}
	return filepath.Join(base, "flow-test-images"), nil
}

// Debian returns the path of a SIF holding a Debian root file system of
// this machine's release, built on first use and then taken from CacheDir.
// It skips the test (fails it in CI) where mmdebstrap or mksquashfs is
// missing; the build itself failing fails the test.
func Debian(t testing.TB, opts DebianOptions) string {
	t.Helper()
	for _, tool := range []struct{ name, pkg string }{{"mmdebstrap", "mmdebstrap"}, {"mksquashfs", "squashfs-tools"}} {
		if _, err := exec.LookPath(tool.name); err != nil {
			testenv.SkipOrFail(t, fmt.Sprintf("building Debian test images needs %s (Debian package %s)", tool.name, tool.pkg))
		}
	}
	suite, sources, err := hostRelease()
	if err != nil {
		testenv.SkipOrFail(t, "building Debian test images needs a Debian host: "+err.Error())
	}
	dir, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "debian v1\n%s\n%s\n%s", suite, sources, opts.Runscript)
	out := filepath.Join(dir, fmt.Sprintf("debian-%s-%s.sif", suite, hex.EncodeToString(h.Sum(nil))[:12]))
	unlock, err := lockFile(out + ".lock") // another test binary may be building it
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := os.Stat(out); err == nil {
		return out
	}
	t.Logf("building the Debian %s test image %s (once; kept in %s)", suite, filepath.Base(out), dir)
	if err := buildDebian(out, suite, sources, opts); err != nil {
		t.Fatalf("siftest: building the Debian image: %v", err)
	}
	return out
}

// hostRelease returns this machine's Debian release (its codename) and
// the apt sources file that says which mirror to use.
func hostRelease() (suite, sources string, err error) {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VERSION_CODENAME="); ok {
			suite = strings.Trim(v, `"`)
		}
	}
	if suite == "" {
		return "", "", fmt.Errorf("/etc/os-release names no VERSION_CODENAME")
	}
	for _, p := range []string{"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"} {
		if st, err := os.Stat(p); err == nil && st.Size() > 0 {
			return suite, p, nil
		}
	}
	return "", "", fmt.Errorf("no apt sources in /etc/apt")
}

// buildDebian runs mmdebstrap into a directory, empties /dev as Docker
// images have it, and packs the result with the runscript.
func buildDebian(out, suite, sources string, opts DebianOptions) error {
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")
	// The apt sources file as the mirror: the same mirror, suites and
	// keys as apt on this machine.
	cmd := exec.Command("mmdebstrap", "--variant=minbase", "--format=directory", "--quiet", suite, root, sources)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	if err := os.RemoveAll(filepath.Join(root, "dev")); err != nil {
		return err
	}
	for _, d := range mountPoints {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	if opts.Runscript != "" {
		if err := writeFile(root, runscriptPath, []byte(opts.Runscript), 0o755); err != nil {
			return err
		}
	}
	squash := filepath.Join(tmp, "root.squashfs")
	cmd = exec.Command("mksquashfs", root, squash, "-noappend", "-quiet", "-no-progress")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	part := filepath.Join(tmp, "image.sif")
	if err := writeSIF(part, squash, nil); err != nil {
		return err
	}
	return os.Rename(part, out)
}

// lockFile takes an exclusive flock on path, waiting for it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
