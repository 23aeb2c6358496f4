package staging

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/internal/siftest"
	"github.com/flow-cwl/flow/internal/testenv"
)

// loginSetup starts a registry holding one image and returns its URI and
// a function making pullers into dir that run their scripts in bash here
// (as the cluster's login node would, over SSH) with a real runtime.
func loginSetup(t *testing.T, dir string) (uri string, reg *siftest.Registry, newPuller func(log *bytes.Buffer) *LoginPuller) {
	t.Helper()
	rt := siftest.Runtime(t)
	if siftest.IsStandIn(rt) {
		testenv.SkipOrFail(t, "pulling from a registry needs a real runtime; the stand-in cannot")
	}
	reg = siftest.StartRegistryWith(t, siftest.RegistryOptions{IP: "127.0.0.2"})
	uri = reg.Push(t, "flowtest/pull:1", siftest.Options{Files: map[string]string{"/etc/nonce": t.Name() + time.Now().String()}})
	newPuller = func(log *bytes.Buffer) *LoginPuller {
		return &LoginPuller{
			Remote: &diskRemote{}, ImageDir: dir, Argv: []string{rt},
			Insecure: func(host string) bool { return host == reg.Addr },
			Where:    "cluster test", Log: zerolog.New(log),
		}
	}
	return uri, reg, newPuller
}

// Two processes wanting the same image at once pull it once: one under
// the lock, the other waiting and then finding it; a third, later, finds
// the record and asks nothing of the registry. The image is named by its
// SHA-256, which is the digest they report. The directory's name needs
// quoting in a shell.
func TestLoginPullerPullsOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), `it's $HOME "x"`)
	uri, reg, newPuller := loginSetup(t, dir)
	var logs [3]bytes.Buffer
	var got [3]RemoteImage
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			var err error
			if got[i], err = newPuller(&logs[i]).Pull(context.Background(), uri); err != nil {
				t.Errorf("puller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	pulls := strings.Count(logs[0].String()+logs[1].String(), "image pulled on the cluster")
	if pulls != 1 || got[0] != got[1] {
		t.Fatalf("two pullers at once: %d pulls, images %+v and %+v; want one pull, one image", pulls, got[0], got[1])
	}
	data, err := os.ReadFile(got[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if hex := hex.EncodeToString(sum[:]); got[0].Digest != "sha256:"+hex || got[0].Path != filepath.Join(dir, "sha256", hex+".sif") {
		t.Errorf("the image is %+v, but its SHA-256 is %s", got[0], hex)
	}
	reads := reg.ManifestReads(t, "flowtest/pull:1")
	if got[2], err = newPuller(&logs[2]).Pull(context.Background(), uri); err != nil || got[2] != got[0] {
		t.Fatalf("a later puller: %+v, %v", got[2], err)
	}
	if n := reg.ManifestReads(t, "flowtest/pull:1"); n != reads || logs[2].Len() != 0 {
		t.Errorf("a later puller went to the registry (manifest reads %d then %d) or logged a pull: %s", reads, n, logs[2].String())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "by-name", "*.lock")); len(left) != 0 {
		t.Errorf("locks left behind: %v", left)
	}
}

// A lock held by a live process makes a puller wait, and the wait ends
// with its context; a lock left by a process that died (older than ten
// minutes) is taken over. A record whose file is gone is pulled again.
func TestLoginPullerLocks(t *testing.T) {
	dir := t.TempDir()
	uri, _, newPuller := loginSetup(t, dir)
	lock := filepath.Join(dir, "by-name", recordName(uri)+".lock")
	if err := os.MkdirAll(lock, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := newPuller(&bytes.Buffer{}).Pull(ctx, uri); done <- err }()
	for !exists(filepath.Join(dir, "sha256")) { // it has looked at least once
		select {
		case err := <-done:
			t.Fatalf("a puller did not wait for a held lock: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting on a held lock, then cancelled: %v", err)
	}

	old := time.Now().Add(-11 * time.Minute)
	if err := os.Chtimes(lock, old, old); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	img, err := newPuller(&log).Pull(context.Background(), uri)
	if err != nil || !strings.Contains(log.String(), "image pulled on the cluster") {
		t.Fatalf("a stale lock was not taken over: %v %s", err, log.String())
	}
	if err := os.Remove(img.Path); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	again, err := newPuller(&log).Pull(context.Background(), uri)
	if err != nil || again != img || !exists(img.Path) || !strings.Contains(log.String(), "image pulled on the cluster") {
		t.Errorf("a record whose file is gone: %+v, %v, %s", again, err, log.String())
	}
}

// A registry the remote side cannot reach is one line naming it, the
// image and the runtime's reason; nothing is recorded and no lock stays.
func TestLoginPullerUnreachable(t *testing.T) {
	dir := t.TempDir()
	_, _, newPuller := loginSetup(t, dir)
	uri := "docker://127.0.0.2:1/flowtest/pull:1"
	_, err := newPuller(&bytes.Buffer{}).Pull(context.Background(), uri)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "cluster test: cannot pull "+uri+" on its login node: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("an unreachable registry: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "by-name")); len(left) != 0 {
		t.Errorf("a failed pull left %v", left)
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// A registry with a certificate from a private CA is pulled from once
// the puller names a directory holding that CA on the remote side
// (containers.registry_ca_dir), and refused without it.
func TestLoginPullerRegistryCA(t *testing.T) {
	rt := siftest.Runtime(t)
	if siftest.IsStandIn(rt) {
		testenv.SkipOrFail(t, "pulling from a registry needs a real runtime; the stand-in cannot")
	}
	reg := siftest.StartRegistryWith(t, siftest.RegistryOptions{IP: "127.0.0.2", TLS: true})
	uri := reg.Push(t, "flowtest/ca:1", siftest.Options{Files: map[string]string{"/etc/nonce": t.Name() + time.Now().String()}})
	p := &LoginPuller{Remote: &diskRemote{}, ImageDir: t.TempDir(), Argv: []string{rt}, Where: "cluster test", Log: zerolog.Nop()}
	if _, err := p.Pull(context.Background(), uri); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a registry whose CA is not trusted: %v; want a certificate error", err)
	}
	p = &LoginPuller{Remote: &diskRemote{}, ImageDir: p.ImageDir, Argv: []string{rt}, CADir: reg.CADir, Where: "cluster test", Log: zerolog.Nop()}
	if img, err := p.Pull(context.Background(), uri); err != nil || !exists(img.Path) {
		t.Errorf("with the registry's CA: %+v, %v", img, err)
	}
}

// What the runtime leaves is checked to be a SIF image before it takes a
// name; anything else is refused and not recorded.
func TestLoginPullerChecksTheImage(t *testing.T) {
	dir := t.TempDir()
	notSIF := []string{"sh", "-c", `printf 'not an image\n' > "$3"`, "runtime"} // $1 pull, $2 --force, $3 dest
	p := &LoginPuller{Remote: &diskRemote{}, ImageDir: dir, Argv: notSIF, Where: "cluster test", Log: zerolog.Nop()}
	_, err := p.Pull(context.Background(), "docker://registry.example/x:1")
	if err == nil || !strings.Contains(err.Error(), "the runtime wrote no SIF image") {
		t.Fatalf("a pull that wrote no SIF image: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "by-name")); len(left) != 0 {
		t.Errorf("a refused pull left %v", left)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "sha256")); len(left) != 0 {
		t.Errorf("a refused pull left %v", left)
	}
}
