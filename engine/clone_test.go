package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// btrfsDir mounts a small btrfs file system, from an image file, for the
// test; it skips where one cannot be made (no mkfs.btrfs, not root), and
// fails instead in CI, which installs btrfs-progs.
func btrfsDir(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"mkfs.btrfs", "filefrag"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, tool+" is not installed (Debian's btrfs-progs and e2fsprogs)")
		}
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "fs.img"), filepath.Join(dir, "mnt")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(200 << 20)
	f.Close()
	if out, err := exec.Command("mkfs.btrfs", "-q", img).CombinedOutput(); err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("cannot make a btrfs image: %v: %s", err, out))
	}
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("cannot mount a btrfs image: %v: %s", err, out))
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return mnt
}

// On a file system with copy-on-write clones, an output taken from the
// cache is a clone: an inode of its own whose extents are the cache's.
// (FICLONE makes it; where that fails, copy_file_range still clones on
// the kernels that remap within one file system; a copy through a
// buffer, or a hard link, fails this test.)
func TestCachedOutputsAreClonesWhereTheFileSystemCan(t *testing.T) {
	dir := btrfsDir(t)
	doc := `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [head, -c, "1000000", /dev/urandom]
inputs: []
stdout: big.dat
outputs: {big: stdout}
`
	first := cachedRun(t, dir, doc, filepath.Join(dir, "o1"), map[string]any{})
	second := cachedRun(t, dir, doc, filepath.Join(dir, "o2"), map[string]any{})
	p1 := first["big"].(map[string]any)["path"].(string)
	p2 := second["big"].(map[string]any)["path"].(string)
	if os.SameFile(stat(t, p1), stat(t, p2)) {
		t.Fatal("the two runs' outputs are one inode")
	}
	exec.Command("sync").Run()
	out, err := exec.CommandContext(context.Background(), "filefrag", "-v", p2).CombinedOutput()
	if err != nil {
		t.Fatalf("filefrag: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "shared") {
		t.Errorf("the reused output's extents are not shared with the cache's (a copy, not a clone):\n%s", out)
	}
}
