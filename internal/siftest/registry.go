package siftest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/tls"
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
	Addr  string // host:port
	CADir string // with TLS: a directory holding the test CA's certificate

	log    string       // the registry's log, access log lines included
	client *http.Client // trusts the test CA
	scheme string       // "http" or "https"
}

// StartRegistry starts a registry on 127.0.0.1, plain HTTP, for the test
// and stops it when the test ends. It skips (fails in CI) where
// docker-registry is not installed.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	return StartRegistryWith(t, RegistryOptions{IP: "127.0.0.1"})
}

// RegistryOptions say where and how a test registry listens.
type RegistryOptions struct {
	// IP is a loopback address. Runtimes speak plain HTTP to 127.0.0.1
	// and localhost unasked, but HTTPS to any other address, such as
	// 127.0.0.2, unless told otherwise.
	IP string
	// TLS serves HTTPS with a certificate from a CA made for the test
	// (Registry.CADir holds it), which nothing on the machine trusts.
	TLS bool
}

// StartRegistryWith is StartRegistry as o says.
func StartRegistryWith(t testing.TB, o RegistryOptions) *Registry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		testenv.SkipOrFail(t, "pull tests need a local registry: the Debian package docker-registry")
	}
	dir := t.TempDir()
	addr := freeAddr(t, o.IP)
	r := &Registry{Addr: addr, log: filepath.Join(dir, "registry.log"), client: &http.Client{Transport: http.DefaultTransport}, scheme: "http"}
	tlsConfig := ""
	if o.TLS {
		cert, key := r.makeCA(t, dir, o.IP)
		tlsConfig = fmt.Sprintf(", tls: {certificate: %s, key: %s}", cert, key)
	}
	config := fmt.Sprintf(`version: 0.1
log: {level: info, formatter: text}
storage: {filesystem: {rootdirectory: %s}}
http: {addr: %s%s}
`, filepath.Join(dir, "storage"), addr, tlsConfig)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
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
	r.waitReady(t)
	return r
}

// waitReady waits up to a minute for the registry to answer.
func (r *Registry) waitReady(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		resp, err := r.client.Get(r.scheme + "://" + r.Addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			b, _ := os.ReadFile(r.log)
			t.Fatalf("the registry did not answer on %s within a minute: %v\n%s", r.Addr, err, b)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// makeCA makes a CA in dir/ca (its certificate, ca.crt, is all CADir
// holds) and a certificate it signs for ip, and returns the files of the
// latter and its key. The registry's client trusts the CA from then on.
func (r *Registry) makeCA(t testing.TB, dir, ip string) (certFile, keyFile string) {
	t.Helper()
	pki := testenv.NewPKI(t, ip)
	r.CADir = filepath.Join(dir, "ca")
	certFile, keyFile = filepath.Join(dir, "registry.crt"), filepath.Join(dir, "registry.key")
	if err := os.Mkdir(r.CADir, 0o755); err != nil {
		t.Fatal(err)
	}
	pki.Write(t, filepath.Join(r.CADir, "ca.crt"), certFile, keyFile)
	r.scheme = "https"
	r.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.Pool}}}
	return certFile, keyFile
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
	var nameOpts []name.Option
	if r.scheme == "http" {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.ParseReference(r.Addr+"/"+repoTag, nameOpts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithContext(t.Context()), remote.WithTransport(r.client.Transport)); err != nil {
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

// ManifestReads counts the registry's answered reads (GET or HEAD) of the
// manifest of repoTag ("repo:tag"). A pull the runtime serves from its
// own cache still asks for the manifest's digest with a HEAD, so every
// pull shows here, where ManifestGets misses those; a push's check for
// a tag not yet there is not counted (it is answered 404).
func (r *Registry) ManifestReads(t testing.TB, repoTag string) int {
	t.Helper()
	b, err := os.ReadFile(r.log)
	if err != nil {
		t.Fatal(err)
	}
	repo, tag, _ := strings.Cut(repoTag, ":")
	n := 0
	for _, method := range []string{"GET", "HEAD"} {
		n += strings.Count(string(b), `"`+method+` /v2/`+repo+`/manifests/`+tag+` HTTP/1.1" 200 `)
	}
	return n
}
