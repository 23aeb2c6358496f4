package siftest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// childVar marks a test binary that RerunUnprivileged started.
const childVar = "SIFTEST_UNPRIVILEGED_CHILD"

// Unprivileged is the account container tests are run again as.
const Unprivileged = "nobody"

// RerunUnprivileged runs the tests of this test binary that match pattern
// again, as the unprivileged account Unprivileged, and fails if any of
// them fails or none passes. Real runtimes behave differently without
// root (user namespaces instead of mounts as root, other paths to write
// to), and most users are not root. When the tests already run as
// another user, they are the unprivileged run, and this one skips.
func RerunUnprivileged(t *testing.T, pattern string) {
	t.Helper()
	if os.Getenv(childVar) == "1" {
		t.Skip("this is the unprivileged run")
	}
	uid, gid, dir := Account(t)
	rt := Runtime(t)
	bin := filepath.Join(dir, filepath.Base(os.Args[0]))
	if err := copyExecutable(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	home, tmp := filepath.Join(dir, "home"), filepath.Join(dir, "tmp")
	for _, d := range []string{home, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), bin, "-test.run", pattern, "-test.v", "-test.count=1")
	cmd.Dir = tmp
	cmd.Env = []string{
		childVar + "=1", "HOME=" + home, "TMPDIR=" + tmp, "USER=" + Unprivileged, "LOGNAME=" + Unprivileged,
		"PATH=" + filepath.Dir(rt) + ":/usr/local/bin:/usr/bin:/bin",
		testenv.RequireVar + "=" + os.Getenv(testenv.RequireVar),
		RealVar + "=" + os.Getenv(RealVar),
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	passed := strings.Count(out.String(), "--- PASS: ")
	if err != nil || passed == 0 {
		t.Fatalf("the container tests (%s) as %s: %v, %d passed:\n%s", pattern, Unprivileged, err, passed, out.String())
	}
	t.Logf("as %s (uid %d), with %s: %d tests passed, %d skipped", Unprivileged, uid, rt, passed, strings.Count(out.String(), "--- SKIP: "))
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Account returns the uid and gid of Unprivileged, and a directory it owns
// (removed when the test ends) to give it as HOME and TMPDIR. It skips
// unless the tests run as root with a real runtime: only then is there
// someone else to be.
func Account(t *testing.T) (uid, gid int, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the tests already run unprivileged")
	}
	if IsStandIn(Runtime(t)) {
		t.Skip("the unprivileged run is for a real runtime")
	}
	u, err := user.Lookup(Unprivileged)
	if err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("no unprivileged account %q: %v", Unprivileged, err))
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	dir, err = os.MkdirTemp("", "siftest-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return uid, gid, dir
}
