package images

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestEnsureUsesCachedImageWithoutPulling(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Puller: forbiddenPuller{t}}
	r := Ref{Pull: "quay.io/biocontainers/samtools:1.9"}
	want := writeSIF(t, c.Path(r), sifSpec{})
	img, err := c.Ensure(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if img.Path != c.Path(r) || img.Digest != want || img.Name != r.Pull {
		t.Errorf("Ensure = %+v; want %s with digest %s", img, c.Path(r), want)
	}
}

func TestEnsurePullsMissingImageOnceThenServesIt(t *testing.T) {
	data := sifBytes(t, sifSpec{labels: map[string]string{"v": "1"}})
	p := &fakePuller{data: data, refs: make(chan string, 2)}
	c := &Cache{Dir: filepath.Join(t.TempDir(), "not", "yet"), Puller: p}
	r := Ref{Pull: "debian:stable-slim"}
	for range 2 {
		img, err := c.Ensure(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		if img.Path != c.Path(r) || img.Digest != digestOf(data) || img.Labels["v"] != "1" {
			t.Errorf("Ensure = %+v", img)
		}
	}
	if n := p.calls.Load(); n != 1 {
		t.Errorf("pulled %d times, want 1", n)
	}
	if ref := <-p.refs; ref != "docker://debian:stable-slim" {
		t.Errorf("pulled %q, want docker://debian:stable-slim", ref)
	}
	want := []string{"debian:stable-slim.sif", "debian:stable-slim.sif.lock", "debian:stable-slim.sif.used"}
	if got := dirNames(t, c.Dir); !reflect.DeepEqual(got, want) {
		t.Errorf("cache holds %v, want %v", got, want)
	}
}

func TestEnsureFailedPullLeavesNothing(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	r := Ref{Pull: "debian:stable-slim"}
	c.Puller = &fakePuller{hook: func(_ context.Context, dest string) error {
		os.WriteFile(dest, []byte("half an image"), 0o644)
		return errors.New("unauthorized: authentication required")
	}}
	_, err := c.Ensure(t.Context(), r)
	want := `image "debian:stable-slim" is not in the cache ` + c.Dir + ` and cannot be pulled: unauthorized: authentication required`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
	assertNoImage(t, c, r)
}

func TestEnsureRejectsPulledGarbage(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Puller: &fakePuller{data: []byte("<html>rate limited</html>")}}
	r := Ref{Pull: "debian:stable-slim"}
	_, err := c.Ensure(t.Context(), r)
	if err == nil || !strings.Contains(err.Error(), `image "debian:stable-slim" is not in the cache`) ||
		!strings.Contains(err.Error(), "the pulled file is not usable") || !strings.Contains(err.Error(), "is not a SIF image") {
		t.Errorf("error = %v", err)
	}
	assertNoImage(t, c, r)
}

func TestEnsureCancelledPullLeavesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	c := &Cache{Dir: t.TempDir()}
	r := Ref{Pull: "debian:stable-slim"}
	c.Puller = &fakePuller{hook: func(ctx context.Context, dest string) error {
		os.WriteFile(dest, []byte("the first layers"), 0o644)
		cancel()
		<-ctx.Done()
		return errors.New("signal: terminated")
	}}
	_, err := c.Ensure(ctx, r)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `"debian:stable-slim"`) {
		t.Errorf("error = %v; want a cancellation naming the image", err)
	}
	assertNoImage(t, c, r)
}

// assertNoImage checks that only the lock file is left in the cache.
func assertNoImage(t *testing.T, c *Cache, r Ref) {
	t.Helper()
	if _, ok := c.Lookup(r); ok {
		t.Error("an image is in the cache after a failed pull")
	}
	if got := dirNames(t, c.Dir); !reflect.DeepEqual(got, []string{filepath.Base(c.Path(r)) + lockSuffix}) {
		t.Errorf("cache holds %v; want only the lock file", got)
	}
}

func TestEnsureRemovesPartialPullsOfDeadProcesses(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Puller: &fakePuller{data: sifBytes(t, sifSpec{})}}
	r := Ref{Pull: "debian:12"}
	stale := filepath.Join(c.Dir, tempPrefix(c.Path(r))+"123")
	other := filepath.Join(c.Dir, tempPrefix(filepath.Join(c.Dir, "other.sif"))+"456")
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, []byte("killed mid-pull"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Ensure(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale partial pull of this image is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("partial pull of another image was touched: %v", err)
	}
}

func TestEnsureExplainsWhyItCannotPull(t *testing.T) {
	pulls := &fakePuller{}
	for _, tc := range []struct {
		name    string
		offline bool
		puller  Puller
		ref     Ref
		cause   string
	}{
		{"offline", true, pulls, Ref{Pull: "debian:12"}, "pulling is turned off (offline)"},
		{"no runtime", false, nil, Ref{Pull: "debian:12"}, "no container runtime is available to pull it"},
		{"no dockerPull", false, pulls, Ref{ImageID: "debian:12"}, "its DockerRequirement has no dockerPull to fetch it from"},
	} {
		c := &Cache{Dir: t.TempDir(), Offline: tc.offline, Puller: tc.puller}
		_, err := c.Ensure(t.Context(), tc.ref)
		want := `image "debian:12" is not in the cache ` + c.Dir + " and cannot be pulled: " + tc.cause
		if err == nil || err.Error() != want {
			t.Errorf("%s: error = %v\nwant %s", tc.name, err, want)
		}
	}
	if n := pulls.calls.Load(); n != 0 {
		t.Errorf("the puller was called %d times", n)
	}
}

func TestEnsureReportsDamagedCachedImage(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Puller: forbiddenPuller{t}}
	r := Ref{Pull: "debian:12"}
	if err := os.WriteFile(c.Path(r), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := c.Ensure(t.Context(), r)
	if err == nil || !strings.Contains(err.Error(), `image "debian:12" in the cache cannot be used; remove `+c.Path(r)+" to pull it again") {
		t.Errorf("error = %v", err)
	}
}

func TestEnsureUsesLocalFileInPlace(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "tool.sif")
	want := writeSIF(t, local, sifSpec{})
	c := &Cache{Dir: filepath.Join(dir, "cache"), Puller: forbiddenPuller{t}}
	img, err := c.Ensure(t.Context(), NewRef("tool.sif", "", dir))
	if err != nil || img.Path != local || img.Digest != want {
		t.Errorf("Ensure = %+v, %v; want %s", img, err, local)
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a local image created or used the cache directory (%v)", err)
	}
}

func TestEnsureGivesUpWaitingForLockWhenCancelled(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Puller: forbiddenPuller{t}}
	r := Ref{Pull: "debian:12"}
	unlock, err := lock(t.Context(), c.Path(r)+lockSuffix) // another pull in progress
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Ensure(ctx, r)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gave up waiting for the pull of image \"debian:12\"") {
		t.Errorf("error = %v", err)
	}
	// The lock is held throughout, so returning at all shows Ensure gave
	// up; the bound only tells a hang from a slow machine.
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Ensure returned %v after its deadline", d)
	}
}

func TestLockIsReleasedAfterCancelledWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := lock(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := lock(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("lock with a cancelled context: %v", err)
	}
	unlock()
	// The abandoned waiter gets the lock and must let it go again.
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	again, err := lock(ctx, path)
	if err != nil {
		t.Fatalf("the lock stayed held after a waiter gave up: %v", err)
	}
	again()
}

func TestEnsureRecordsUse(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Puller: forbiddenPuller{t}}
	r := Ref{Pull: "debian:12"}
	writeSIF(t, c.Path(r), sifSpec{})
	old := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	if err := os.Chtimes(c.Path(r), old, old); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	if _, err := c.Ensure(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(c.Path(r) + usedSuffix)
	if err != nil || st.ModTime().Before(before) {
		t.Fatalf("use not recorded: %v, %v", st, err)
	}
	if st, _ := os.Stat(c.Path(r)); !st.ModTime().Equal(old) {
		t.Errorf("recording use changed the image's mtime to %v", st.ModTime())
	}
}

func TestEnsurePullsWhereFileSystemCannotLock(t *testing.T) {
	flockSys = func(int, int) error { return syscall.ENOSYS } // Lustre with noflock
	defer func() { flockSys = syscall.Flock }()
	data := sifBytes(t, sifSpec{})
	c := &Cache{Dir: t.TempDir(), Puller: &fakePuller{data: data}}
	r := Ref{Pull: "debian:12"}
	img, err := c.Ensure(t.Context(), r)
	if err != nil || img.Digest != digestOf(data) {
		t.Errorf("Ensure = %+v, %v; want the pulled image despite no locking", img, err)
	}
}

func TestPulledImageIsReadableByCacheGroup(t *testing.T) {
	// os.CreateTemp would make the image 0600, unreadable to the other
	// users of a shared cache; the umask must decide.
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	c := &Cache{Dir: t.TempDir(), Puller: &fakePuller{data: sifBytes(t, sifSpec{})}}
	r := Ref{Pull: "debian:12"}
	if _, err := c.Ensure(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{c.Path(r), c.Path(r) + lockSuffix} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o664 {
			t.Errorf("%s: mode %v, %v; want -rw-rw-r-- under umask 002", p, st.Mode(), err)
		}
	}
}
