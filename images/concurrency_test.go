package images

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/siftest"
	"github.com/flow-cwl/flow/internal/testenv"
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
// the cache for the image, pulling it with the real runtime from the
// test's registry, and prints its digest.
func child() int {
	c := &Cache{Dir: os.Getenv("IMAGES_TEST_DIR"), Puller: RuntimePuller{Runtime: os.Getenv("IMAGES_TEST_RUNTIME")}}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	img, err := c.Ensure(context.Background(), Ref{Pull: os.Getenv("IMAGES_TEST_IMAGE")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(img.Digest)
	return 0
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

// Five processes that need the same image at once pull it once, with the
// real runtime from a real registry, counted in the registry's access log
// against a single pull of another image: the runtime reads a manifest
// more than once per pull.
func TestEnsurePullsOnceAcrossProcesses(t *testing.T) {
	rt := siftest.Runtime(t)
	if siftest.IsStandIn(rt) {
		testenv.SkipOrFail(t, "pulling from a registry needs a real runtime; the stand-in cannot")
	}
	// Without the runtime's own cache, every pull reads the manifest
	// again; with it, a second pull of a digest it holds reads less.
	t.Setenv("SINGULARITY_DISABLE_CACHE", "true")
	t.Setenv("APPTAINER_DISABLE_CACHE", "true")
	reg := siftest.StartRegistry(t)
	// Bare names, as in a dockerPull: 127.0.0.1 is plain HTTP to runtimes.
	ref := strings.TrimPrefix(reg.Push(t, "biocontainers/samtools:1.9", siftest.Options{Files: map[string]string{"/etc/image-name": "samtools\n"}}), "docker://")
	once := strings.TrimPrefix(reg.Push(t, "biocontainers/samtools:once", siftest.Options{Files: map[string]string{"/etc/image-name": "once\n"}}), "docker://")
	single := &Cache{Dir: t.TempDir(), Puller: RuntimePuller{Runtime: rt}}
	if _, err := single.Ensure(t.Context(), Ref{Pull: once}); err != nil {
		t.Fatal(err)
	}
	onePull := reg.ManifestGets(t, "biocontainers/samtools:once")

	dir := t.TempDir()
	const n = 5
	var procs []*childProc
	for range n {
		procs = append(procs, startChild(t, dir, rt, ref))
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

	if got := reg.ManifestGets(t, "biocontainers/samtools:1.9"); got != onePull {
		t.Errorf("%d processes read the manifest %d times; one pull reads it %d times", n, got, onePull)
	}
	for i, d := range digests {
		if d != digests[0] || !strings.HasPrefix(d, "sha256:") {
			t.Errorf("child %d got digest %q, child 0 %q", i, d, digests[0])
		}
	}
	name := strings.ReplaceAll(ref, "/", "_") + ".sif"
	if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{name, name + lockSuffix, name + usedSuffix}) {
		t.Errorf("cache holds %v", names)
	}
}

type childProc struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *strings.Builder
}

func startChild(t *testing.T, dir, runtime, image string) *childProc {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0])
	cmd.Env = append(os.Environ(), "IMAGES_TEST_CHILD=1", "IMAGES_TEST_DIR="+dir, "IMAGES_TEST_RUNTIME="+runtime, "IMAGES_TEST_IMAGE="+image)
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
