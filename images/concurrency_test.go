package images

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A test binary started with IMAGES_TEST_CHILD=1 is one of the flow
// processes in TestEnsurePullsOnceAcrossProcesses, not a test run.
func TestMain(m *testing.M) {
	if os.Getenv("IMAGES_TEST_CHILD") == "1" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child says "ready", waits for the parent's go (a line on stdin), asks
// the cache for the image and prints its digest.
func child() int {
	c := &Cache{Dir: os.Getenv("IMAGES_TEST_DIR"), Puller: httpPuller{os.Getenv("IMAGES_TEST_URL")}}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	img, err := c.Ensure(context.Background(), Ref{Pull: "quay.io/biocontainers/samtools:1.9"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(img.Digest)
	return 0
}

// httpPuller downloads the image from a test server.
type httpPuller struct{ url string }

func (p httpPuller) Pull(ctx context.Context, ref, dest string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"?ref="+ref, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(dest)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func TestEnsurePullsOnceForConcurrentGoroutines(t *testing.T) {
	data := sifBytes(t, sifSpec{})
	p := &fakePuller{data: data, delay: 100 * time.Millisecond}
	c := &Cache{Dir: t.TempDir(), Puller: p}
	r := Ref{Pull: "quay.io/biocontainers/samtools:1.9"}

	const n = 10
	start := make(chan struct{})
	got := make([]Image, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		// Half share the Cache, half have their own on the same
		// directory, as two engines in one process would: the flock
		// must order those.
		own := c
		if i%2 == 1 {
			own = &Cache{Dir: c.Dir, Puller: p}
		}
		wg.Go(func() {
			<-start
			got[i], errs[i] = own.Ensure(t.Context(), r)
		})
	}
	close(start)
	wg.Wait()

	if calls := p.calls.Load(); calls != 1 {
		t.Errorf("%d askers caused %d pulls, want 1", n, calls)
	}
	for i := range n {
		if errs[i] != nil || got[i].Digest != digestOf(data) || got[i].Path != c.Path(r) {
			t.Errorf("asker %d got %+v, %v", i, got[i], errs[i])
		}
	}
}

func TestEnsurePullsOnceAcrossProcesses(t *testing.T) {
	data := sifBytes(t, sifSpec{labels: map[string]string{"who": "server"}})
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		requests.Add(1)
		time.Sleep(300 * time.Millisecond) // a slow registry: the others must wait, not pull
		w.Write(data)
	}))
	defer srv.Close()

	dir := t.TempDir()
	const n = 5
	var procs []*childProc
	for range n {
		procs = append(procs, startChild(t, dir, srv.URL))
	}
	for _, p := range procs { // all ready, then all at once
		if line, _ := p.out.ReadString('\n'); line != "ready\n" {
			t.Fatalf("child said %q, want ready", line)
		}
	}
	for _, p := range procs {
		io.WriteString(p.in, "go\n")
	}
	var digests []string
	for i, p := range procs {
		out, _ := io.ReadAll(p.out)
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, p.stderr.String())
		}
		digests = append(digests, strings.TrimSpace(string(out)))
	}

	if got := requests.Load(); got != 1 {
		t.Errorf("%d processes caused %d downloads, want 1", n, got)
	}
	want := make([]string, n)
	for i := range want {
		want[i] = digestOf(data)
	}
	if !reflect.DeepEqual(digests, want) {
		t.Errorf("children got digests %q, want %s each", digests, digestOf(data))
	}
	if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{
		"quay.io_biocontainers_samtools:1.9.sif", "quay.io_biocontainers_samtools:1.9.sif.lock", "quay.io_biocontainers_samtools:1.9.sif.used",
	}) {
		t.Errorf("cache holds %v", names)
	}
}

type childProc struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *strings.Builder
}

func startChild(t *testing.T, dir, url string) *childProc {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0])
	cmd.Env = append(os.Environ(), "IMAGES_TEST_CHILD=1", "IMAGES_TEST_DIR="+dir, "IMAGES_TEST_URL="+url)
	p := &childProc{cmd: cmd, stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewReader(out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}
