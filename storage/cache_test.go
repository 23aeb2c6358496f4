package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/s3test"
)

// serveObject serves data at /data.bin with ranges, ETag and
// Last-Modified (http.ServeContent), counting GETs. cut, when above 0,
// makes that many responses stop after half their body and drop the
// connection.
func serveObject(data []byte, gets, cut *atomic.Int64) http.Handler {
	mod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/data.bin" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		if r.Method == http.MethodGet {
			gets.Add(1)
			if cut != nil && cut.Add(-1) >= 0 {
				w.Header().Set("Content-Length", "1000000")
				w.WriteHeader(http.StatusPartialContent)
				w.Write(data[:1000])
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler) // drop the connection mid-body
			}
		}
		http.ServeContent(w, r, "data.bin", mod, bytes.NewReader(data))
	})
}

func httpsCache(t *testing.T, caFile string) *Cache {
	t.Helper()
	cfg := writeConfig(t, "https:\n  ca_file: "+caFile+"\n")
	st, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Cache{Dir: t.TempDir(), Stores: st, PartSize: 64 << 10, Parts: 4}
}

// TestHTTPSFetchOnce: a file over HTTPS, trusted through ca_file, arrives
// whole in parallel ranges, and asking again downloads nothing.
func TestHTTPSFetchOnce(t *testing.T) {
	data := testData(1_000_000)
	var gets atomic.Int64
	srv, caFile := s3test.HTTPS(t, serveObject(data, &gets, nil))
	c := httpsCache(t, caFile)
	ctx := context.Background()
	p, err := c.FetchFile(ctx, srv.URL+"/data.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, data) || filepath.Base(p) != "data.bin" {
		t.Fatalf("fetched %s, %d bytes; want data.bin with the served bytes", p, len(got))
	}
	if n := gets.Load(); n < 2 {
		t.Errorf("%d GETs for a 1 MB object in 64 KiB parts; want ranges", n)
	}
	before := gets.Load()
	if p2, err := c.FetchFile(ctx, srv.URL+"/data.bin"); err != nil || p2 != p {
		t.Fatalf("second fetch: %s, %v", p2, err)
	}
	if gets.Load() != before || c.Downloads() != 1 {
		t.Errorf("the second fetch downloaded again (%d GETs, %d downloads)", gets.Load()-before, c.Downloads())
	}
}

// TestHTTPSUntrusted: without the CA, the server is not trusted.
func TestHTTPSUntrusted(t *testing.T) {
	var gets atomic.Int64
	srv, _ := s3test.HTTPS(t, serveObject(testData(10), &gets, nil))
	st, _ := New(nil)
	c := &Cache{Dir: t.TempDir(), Stores: st}
	_, err := c.FetchFile(context.Background(), srv.URL+"/data.bin")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v; want unreachable, naming the certificate", err)
	}
}

// TestHTTPNotFound: a 404 is ErrNotFound.
func TestHTTPNotFound(t *testing.T) {
	var gets atomic.Int64
	srv, caFile := s3test.HTTPS(t, serveObject(testData(10), &gets, nil))
	_, err := httpsCache(t, caFile).FetchFile(context.Background(), srv.URL+"/nothing.bin")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

// TestDroppedConnection: a server that drops the connection mid-body
// once is resumed from where it stopped; one that always does gives one
// line saying so, and leaves nothing in the cache.
func TestDroppedConnection(t *testing.T) {
	data := testData(1_000_000)
	var gets, cut atomic.Int64
	srv, caFile := s3test.HTTPS(t, serveObject(data, &gets, &cut))
	cut.Store(1)
	c := httpsCache(t, caFile)
	c.PartSize = 1 << 20 // one range: the cut one
	p, err := c.FetchFile(context.Background(), srv.URL+"/data.bin")
	if err != nil {
		t.Fatalf("one dropped connection was not resumed: %v", err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
		t.Fatal("the resumed file differs from the object")
	}
	cut.Store(1 << 30)
	c = httpsCache(t, caFile)
	c.PartSize = 1 << 20
	_, err = c.FetchFile(context.Background(), srv.URL+"/data.bin")
	if err == nil || !strings.Contains(err.Error(), "connection was cut") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v; want one line saying the connection was cut", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(c.Dir, "objects")); len(ents) != 0 {
		t.Errorf("a failed download left %d objects in the cache", len(ents))
	}
}

// TestS3FetchDirAndChange: a prefix becomes a directory of its objects;
// an object changed on the server is fetched again, an unchanged one not.
func TestS3FetchDirAndChange(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "run42/a.txt", []byte("alpha\n"))
	srv.Put(t, bucket, "run42/sub/b.txt", []byte("beta\n"))
	c := &Cache{Dir: t.TempDir(), Stores: s3Stores(t, srv, srv.AccessKey, srv.SecretKey)}
	ctx := context.Background()
	dir, err := c.FetchDir(ctx, "s3://"+bucket+"/run42/")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "run42" {
		t.Errorf("directory %s is not named after the prefix", dir)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "b.txt")); string(b) != "beta\n" {
		t.Errorf("sub/b.txt holds %q", b)
	}
	srv.Put(t, bucket, "run42/a.txt", []byte("alpha, changed\n"))
	dir2, err := c.FetchDir(ctx, "s3://"+bucket+"/run42/")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir2, "a.txt")); string(b) != "alpha, changed\n" {
		t.Errorf("after a change, a.txt holds %q", b)
	}
	if n := c.Downloads(); n != 3 {
		t.Errorf("%d downloads; want 3 (two objects, then the changed one)", n)
	}
	if _, err := c.FetchDir(ctx, "s3://"+bucket+"/nothing/"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an empty prefix: %v, want ErrNotFound", err)
	}
}

// cutProxy forwards TCP connections to addr; the first connection whose
// answer passes limit bytes is cut there, once (or, with corrupt, has
// the byte there changed, once).
func cutProxy(t *testing.T, addr string, limit int64, corrupt ...bool) (string, *atomic.Bool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := new(atomic.Bool)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				n, _ := io.CopyN(c, up, limit)
				if n == limit && done.CompareAndSwap(false, true) {
					if len(corrupt) == 0 {
						return // drop the client's connection mid-answer
					}
					var b [1]byte
					if _, err := io.ReadFull(up, b[:]); err != nil {
						return
					}
					c.Write([]byte{b[0] ^ 0xff})
				}
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), done
}

// TestS3CorruptedBytesRefused: bytes changed on the way from the S3
// server do not match the CRC it computed when it received the object
// (CRC64NVME, versitygw's default), and the download fails, caching
// nothing.
func TestS3CorruptedBytesRefused(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "big.bin", testData(1_500_000))
	u, _ := url.Parse(srv.Endpoint)
	proxied := *srv
	addr, corrupted := cutProxy(t, u.Host, 200_000, true)
	proxied.Endpoint = "http://" + addr
	c := &Cache{Dir: t.TempDir(), Stores: s3Stores(t, &proxied, srv.AccessKey, srv.SecretKey), PartSize: 512 << 10, Parts: 2}
	_, err := c.FetchFile(context.Background(), "s3://"+bucket+"/big.bin")
	if !corrupted.Load() {
		t.Fatal("no byte was changed: the test tested nothing")
	}
	if err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Fatalf("err = %v; want the CRC mismatch", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(c.Dir, "objects")); len(ents) != 0 {
		t.Errorf("a corrupted download left %d objects in the cache", len(ents))
	}
}

// TestS3DroppedConnectionResumes: the S3 server's connection cut in the
// middle of a range is resumed from where it stopped, and the file is
// whole.
func TestS3DroppedConnectionResumes(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	data := testData(1_500_000)
	srv.Put(t, bucket, "big.bin", data)
	u, _ := url.Parse(srv.Endpoint)
	proxied := *srv
	addr, cut := cutProxy(t, u.Host, 300_000)
	proxied.Endpoint = "http://" + addr
	c := &Cache{Dir: t.TempDir(), Stores: s3Stores(t, &proxied, srv.AccessKey, srv.SecretKey), PartSize: 512 << 10, Parts: 2}
	p, err := c.FetchFile(context.Background(), "s3://"+bucket+"/big.bin")
	if err != nil {
		t.Fatalf("a connection cut once was not resumed: %v", err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
		t.Fatal("the resumed file differs from the object")
	}
	if !cut.Load() {
		t.Error("no connection was cut: the test tested nothing")
	}
}

// TestStalledServer: a server that stops sending in the middle of a body
// is given up on (after stallTimeout, shortened here), asked again, and
// in the end named in one line; the fetch does not hang.
func TestStalledServer(t *testing.T) {
	defer func(d time.Duration) { stallTimeout = d }(stallTimeout)
	stallTimeout = 50 * time.Millisecond
	srv, caFile := s3test.HTTPS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Header().Set("Accept-Ranges", "bytes")
		if r.Method == http.MethodHead {
			return
		}
		w.WriteHeader(http.StatusPartialContent)
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // and nothing more, until the client gives up
	}))
	_, err := httpsCache(t, caFile).FetchFile(context.Background(), srv.URL+"/stall.bin")
	if err == nil || !strings.Contains(err.Error(), "stopped sending") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v; want one line saying the server stopped sending", err)
	}
}

// TestS3EmptyObject: an empty object is an empty file.
func TestS3EmptyObject(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "empty.txt", nil)
	c := &Cache{Dir: t.TempDir(), Stores: s3Stores(t, srv, srv.AccessKey, srv.SecretKey)}
	p, err := c.FetchFile(context.Background(), "s3://"+bucket+"/empty.txt")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Size() != 0 || filepath.Base(p) != "empty.txt" {
		t.Fatalf("%s: %v %v", p, st, err)
	}
}

// TestS3NoCredentials: with no keys anywhere, the error says so, not
// that the EC2 metadata service (the SDK's last resort) failed.
func TestS3NoCredentials(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "a.txt", []byte("a"))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	st, err := New(writeConfig(t, "s3:\n  - name: test\n    endpoint: "+srv.Endpoint+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := &Cache{Dir: t.TempDir(), Stores: st}
	_, err = c.FetchFile(context.Background(), "s3://"+bucket+"/a.txt")
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "no S3 credentials") {
		t.Fatalf("err = %v; want forbidden, saying there are no credentials", err)
	}
}
