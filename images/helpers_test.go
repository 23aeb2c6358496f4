package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sylabs/sif/v2/pkg/sif"

	"github.com/flow-cwl/flow/internal/testenv"
)

// sifSpec says what test SIF to build.
type sifSpec struct {
	noRoot bool              // leave out the root file system partition
	arch   string            // of the root partition; "amd64" if empty
	rootfs []byte            // partition contents; any bytes do, Inspect never mounts
	labels map[string]string // written as a JSON labels object when not nil
	raw    []byte            // labels object bytes, overriding labels
}

// sifBytes builds a SIF image with the sif library itself, the way
// `singularity build` lays one out. It is deterministic: the same spec
// gives the same bytes, so tests can compare digests.
func sifBytes(t testing.TB, s sifSpec) []byte {
	t.Helper()
	rootfs := s.rootfs
	if rootfs == nil {
		rootfs = []byte("not really squashfs, but Inspect does not mount it")
	}
	arch := s.arch
	if arch == "" {
		arch = "amd64"
	}
	pt := sif.PartPrimSys
	if s.noRoot {
		pt = sif.PartData
	}
	part, err := sif.NewDescriptorInput(sif.DataPartition, bytes.NewReader(rootfs),
		sif.OptPartitionMetadata(sif.FsSquash, pt, arch))
	if err != nil {
		t.Fatal(err)
	}
	dis := []sif.DescriptorInput{part}
	if raw := labelBytes(t, s); raw != nil {
		di, err := sif.NewDescriptorInput(sif.DataLabels, bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		dis = append(dis, di)
	}
	buf := sif.NewBuffer(nil)
	fi, err := sif.CreateContainer(buf, sif.OptCreateWithDescriptors(dis...), sif.OptCreateDeterministic())
	if err != nil {
		t.Fatal(err)
	}
	if err := fi.UnloadContainer(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func labelBytes(t testing.TB, s sifSpec) []byte {
	if s.raw != nil || s.labels == nil {
		return s.raw
	}
	b, err := json.Marshal(s.labels)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeSIF writes a test SIF to path and returns its expected digest.
func writeSIF(t testing.TB, path string, s sifSpec) string {
	t.Helper()
	b := sifBytes(t, s)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return digestOf(b)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// squashfs builds a real, tiny squashfs file system with mksquashfs.
func squashfs(t *testing.T) []byte {
	t.Helper()
	mk, err := exec.LookPath("mksquashfs")
	if err != nil {
		testenv.SkipOrFail(t, "mksquashfs is not installed; install squashfs-tools")
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "hello"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "rootfs.squashfs")
	if b, err := exec.Command(mk, root, out, "-noappend", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakePuller writes data to dest and counts its calls. Before writing it
// runs hook, if set, whose error (if any) fails the pull.
type fakePuller struct {
	data  []byte
	delay time.Duration
	hook  func(ctx context.Context, dest string) error
	calls atomic.Int32
	refs  chan string // receives each ref, if not nil
}

func (p *fakePuller) Pull(ctx context.Context, ref, dest string) error {
	p.calls.Add(1)
	if p.refs != nil {
		p.refs <- ref
	}
	if p.hook != nil {
		if err := p.hook(ctx, dest); err != nil {
			return err
		}
	}
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return os.WriteFile(dest, p.data, 0o644)
}

// forbiddenPuller fails the test if anything pulls.
type forbiddenPuller struct{ t *testing.T }

func (p forbiddenPuller) Pull(_ context.Context, ref, _ string) error {
	p.t.Errorf("the cache pulled %s although the image was on disk", ref)
	return nil
}

// dirNames lists a directory's entries, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	sort.Strings(names)
	return names
}
