package staging

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/local"
)

// diskRemote is "the other machine" as another directory tree of this
// one: scripts run in bash, files are copied. The SSH and SFTP side is
// internal/remote's, tested against a real sshd; this tests what staging
// asks of it.
type diskRemote struct{ uploads, images atomic.Int32 }

func (d *diskRemote) Run(ctx context.Context, script string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Stderr = os.Stderr
	return cmd.Output()
}

func (d *diskRemote) StageFile(ctx context.Context, local, root string) (string, error) {
	b, err := os.ReadFile(local)
	if err != nil {
		return "", err
	}
	h := sha1.Sum(b)
	sum := hex.EncodeToString(h[:])
	dst := path.Join(root, "sha1", sum[:2], sum, filepath.Base(local))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	d.uploads.Add(1)
	return dst, copyFile(local, dst)
}

func (d *diskRemote) StageImage(ctx context.Context, local, dir string) (string, error) {
	b, err := os.ReadFile(local)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	dst := path.Join(dir, "sha256", hex.EncodeToString(h[:])+".sif")
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	d.images.Add(1)
	return dst, copyFile(local, dst)
}

func (d *diskRemote) Download(ctx context.Context, remote, local string) error {
	return copyFile(remote, local)
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func write(t *testing.T, p, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A task runs against staged copies of its inputs, under names no shell
// would take unquoted, and what it writes comes back.
func TestStagedTaskRoundTrip(t *testing.T) {
	here, there := t.TempDir(), t.TempDir()
	odd := "it's $(touch pwned) `x`\nname.txt"
	in := filepath.Join(here, "data", odd)
	write(t, in, "payload\n")
	write(t, filepath.Join(here, "dir", "sub", "a.txt"), "A\n")
	outdir, tmpdir := filepath.Join(here, "out"), filepath.Join(here, "tmp")
	write(t, filepath.Join(outdir, "iwd.txt"), "staged before the command\n")
	if err := os.MkdirAll(tmpdir, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(there, "jobs", "run-1")
	mirror := func(p string) string { return filepath.Join(root, p) }

	lx, err := local.New(local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &diskRemote{}
	ex := Wrap(lx, r, Options{Root: filepath.Join(there, "jobs"), StoreDir: filepath.Join(there, "store")})
	task := &executors.Task{
		ID: "t", Dir: mirror(outdir), Env: map[string]string{"PATH": os.Getenv("PATH")},
		Argv: []string{"sh", "-c", `cat "$1" "$2/sub/a.txt" > out.txt && echo more >> iwd.txt && cp -r "$2" copied`,
			"sh", mirror(in), mirror(filepath.Join(here, "dir"))},
		Mounts: []executors.Mount{
			{Source: outdir, Target: mirror(outdir), Writable: true},
			{Source: tmpdir, Target: mirror(tmpdir), Writable: true},
			{Source: in, Target: mirror(in)},
			{Source: filepath.Join(here, "dir"), Target: mirror(filepath.Join(here, "dir"))},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := ex.Start(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Wait(ctx, h)
	if err != nil || !res.Success() {
		t.Fatalf("task: %v %+v", err, res)
	}
	check := func(p, want string) {
		t.Helper()
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", p, b, err, want)
		}
	}
	check(filepath.Join(outdir, "out.txt"), "payload\nA\n")
	check(filepath.Join(outdir, "iwd.txt"), "staged before the command\nmore\n")
	check(filepath.Join(outdir, "copied", "sub", "a.txt"), "A\n")
	check(in, "payload\n") // the local input is untouched
	if fi, err := os.Lstat(filepath.Join(outdir, "copied", "sub", "a.txt")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("cp -r of a staged directory copied %v, not a file", fi.Mode())
	}
	stored, _ := filepath.Glob(filepath.Join(there, "store", "sha1", "*", "*", "*"))
	if len(stored) != 3 { // the input, a.txt, iwd.txt
		t.Errorf("the store holds %d files, want 3: %q", len(stored), stored)
	}
	for _, s := range stored {
		// Read-only, so that a command (not root) cannot change the
		// store through the hard link it was given.
		if fi, err := os.Stat(s); err != nil || fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("stored file %s is writable (%v)", s, fi.Mode())
		}
	}
	if _, err := os.Stat(filepath.Join(there, "pwned")); err == nil {
		t.Error("a file name was run as a command")
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("the job's remote directory is still there after the job: %v", err)
	}
	if _, err := os.Stat(filepath.Join(there, "store")); err != nil {
		t.Errorf("the store went with the job: %v", err)
	}
}

// The same input staged by two tasks goes up once.
func TestInputsUploadOnce(t *testing.T) {
	here, there := t.TempDir(), t.TempDir()
	in := filepath.Join(here, "big.dat")
	write(t, in, "data\n")
	r := &diskRemote{}
	for i := range 2 {
		p := &plan{remote: r, store: filepath.Join(there, "store")}
		target := filepath.Join(there, "job", string(rune('a'+i)), "big.dat")
		if err := p.add(context.Background(), executors.Mount{Source: in, Target: target}); err != nil {
			t.Fatal(err)
		}
		if err := p.run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.uploads.Load(); n != 1 {
		t.Errorf("two tasks with one input made %d uploads", n)
	}
}

func TestParseListRefusesPathsOutsideTheDirectory(t *testing.T) {
	for _, bad := range []string{"f\x00../etc/passwd\x00\x00", "f\x00/etc/passwd\x00\x00", "f\x00a/../../b\x00\x00"} {
		if _, err := parseList([]byte(bad)); err == nil {
			t.Errorf("parseList accepted %q", bad)
		}
	}
	ents, err := parseList([]byte("d\x00sub\x00\x00f\x00sub/new\nline\x00\x00l\x00ln\x00/x/y\x00"))
	if err != nil || len(ents) != 3 || ents[1].rel != "sub/new\nline" || ents[2].link != "/x/y" {
		t.Errorf("parseList: %+v, %v", ents, err)
	}
}

// Staging a directory stops once the run is cancelled, whether it is
// linked (read-only) or copied (writable), uploading nothing more.
func TestStagingADirectoryStopsWhenCancelled(t *testing.T) {
	here, there := t.TempDir(), t.TempDir()
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(here, "tree", d), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(here, "tree", d, "f.txt"), d+"\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, writable := range []bool{false, true} {
		r := &diskRemote{}
		p := &plan{remote: r, store: filepath.Join(there, "store")}
		err := p.add(ctx, executors.Mount{Source: filepath.Join(here, "tree"), Target: filepath.Join(there, "job", "tree"), Writable: writable})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("writable %v: staging with a cancelled context returned %v, want context.Canceled", writable, err)
		}
		if n := r.uploads.Load(); n != 0 {
			t.Errorf("writable %v: %d uploads after the cancel", writable, n)
		}
	}
}
