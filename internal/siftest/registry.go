package siftest

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/flow-cwl/flow/internal/testenv"
)

// Registry is a real OCI registry on 127.0.0.1 for pull tests: Debian's
// docker-registry (the CNCF distribution registry), plain HTTP, its
// storage and log in the test's temporary directory.
type Registry struct {
	Addr string // host:port
	log  string // the registry's log, access log lines included
}

// StartRegistry starts a registry on 127.0.0.1 for the test and stops it
// when the test ends. It skips (fails in CI) where docker-registry is not
// installed.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	return StartRegistryOn(t, "127.0.0.1")
}

// StartRegistryOn is StartRegistry on another loopback address. Runtimes
// speak plain HTTP to 127.0.0.1 and localhost unasked, but HTTPS to any
// other address, such as 127.0.0.2, unless told otherwise.
func StartRegistryOn(t testing.TB, ip string) *Registry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		testenv.SkipOrFail(t, "pull tests need a local registry: the Debian package docker-registry")
	}
	dir := t.TempDir()
	addr := freeAddr(t, ip)
	config := fmt.Sprintf(`version: 0.1
log: {level: info, formatter: text}
storage: {filesystem: {rootdirectory: %s}}
http: {addr: %s}
`, filepath.Join(dir, "storage"), addr)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Registry{Addr: addr, log: filepath.Join(dir, "registry.log")}
	logFile, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		select {
		case <-ctx.Done():
			b, _ := os.ReadFile(r.log)
			t.Fatalf("the registry did not answer on %s within a minute: %v\n%s", addr, err, b)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freeAddr is an address on ip with a port nothing listens on now.
func freeAddr(t testing.TB, ip string) string {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Push builds the root file system Build would pack for opts and pushes
// it, as the single layer of an OCI image, to the registry under repoTag
// ("repo:tag"), with go-containerregistry. It returns the reference a
// runtime pulls, "docker://ADDR/repo:tag".
func (r *Registry) Push(t testing.TB, repoTag string, opts Options) string {
	t.Helper()
	busybox, err := findBusybox()
	if err != nil {
		testenv.SkipOrFail(t, err.Error())
	}
	root := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := makeRoot(root, busybox, opts); err != nil {
		t.Fatal(err)
	}
	layerTar, err := tarDir(root)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: runtime.GOARCH, OS: "linux",
		Config: v1.Config{Env: []string{"PATH=/usr/bin:/bin"}, Cmd: []string{"/bin/sh"}},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(r.Addr+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return "docker://" + r.Addr + "/" + repoTag
}

// tarDir is the directory's tree as a tar stream, owned by root, with
// fixed times.
func tarDir(root string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if d.Type()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "root", "root"
		hdr.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), tw.Close()
}

// ManifestGets counts the registry's access log lines for GETs of the
// manifest of repoTag ("repo:tag"): every pull of the tag reads it,
// whatever the runtime keeps in its own layer cache. How many GETs one
// pull makes is the runtime's business (SingularityCE 4 makes two), so
// tests compare with a pull of another tag rather than with a constant.
func (r *Registry) ManifestGets(t testing.TB, repoTag string) int {
	t.Helper()
	b, err := os.ReadFile(r.log)
	if err != nil {
		t.Fatal(err)
	}
	repo, tag, _ := strings.Cut(repoTag, ":")
	return strings.Count(string(b), `"GET /v2/`+repo+`/manifests/`+tag+` HTTP/`)
}
