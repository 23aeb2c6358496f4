package siftest

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sylabs/sif/v2/pkg/sif"

	"github.com/flow-cwl/flow/internal/testenv"
)

// Options describe an image beyond the busybox base.
type Options struct {
	// Name is the file name of the SIF in dir; "" means "image.sif".
	Name string
	// Files are extra files: absolute path in the image → content. Tests
	// use them as markers (/etc/image-name) to tell images apart.
	Files map[string]string
	// Labels are stored as the SIF's JSON labels object.
	Labels map[string]string
	// Runscript, when not "", is the image's runscript: what `singularity
	// run` executes with its arguments. It is written, executable, to
	// /.singularity.d/runscript, where real SIF images keep it (those
	// converted from Docker images hold their ENTRYPOINT and CMD there).
	Runscript string
	// NoShell leaves /bin/sh out of the image, for tests of what a
	// runtime does in an image without a shell; the other applets stay.
	NoShell bool
}

// runscriptPath is where SIF images keep their runscript.
const runscriptPath = "/.singularity.d/runscript"

// Applets are the busybox commands every image has, in /bin.
var Applets = []string{
	"sh", "echo", "cat", "ls", "pwd", "env", "id", "touch", "mkdir", "sleep",
	"true", "false", "wc", "head", "tr", "sort", "printf", "test", "grep",
	"sed", "rm", "cp", "mv", "ln", "chmod", "stat", "kill", "uname", "[",
}

// Build writes a new SIF image to dir and returns its path. It skips the
// test (or fails it, in CI) when busybox-static or squashfs-tools is not
// installed.
//
// Images are reproducible: the same busybox and Options give the same
// bytes, so caches keyed by content (the stand-in's extractions, flow's
// own) see one image, not one per test run. Tests that need two distinct
// images give them different Files or Labels.
func Build(t testing.TB, dir string, opts Options) string {
	t.Helper()
	name := opts.Name
	if name == "" {
		name = "image.sif"
	}
	out := filepath.Join(dir, name)
	var missing *missingTool
	if err := build(out, opts); errors.As(err, &missing) {
		testenv.SkipOrFail(t, err.Error())
	} else if err != nil {
		t.Fatalf("siftest: building %s: %v", out, err)
	}
	return out
}

// missingTool is a program Build needs that is not installed.
type missingTool struct{ msg string }

func (e *missingTool) Error() string { return e.msg }

// build writes the image opts describe to out.
func build(out string, opts Options) error {
	busybox, err := findBusybox()
	if err != nil {
		return err
	}
	mksquashfs, err := exec.LookPath("mksquashfs")
	if err != nil {
		return &missingTool{"building SIF test images needs mksquashfs (Debian package squashfs-tools)"}
	}
	tmp, err := os.MkdirTemp("", "siftest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	if err := makeRoot(root, busybox, opts); err != nil {
		return fmt.Errorf("making the image's root file system: %w", err)
	}
	squash := filepath.Join(tmp, "root.squashfs")
	// Fixed times make the image a function of opts (see Build).
	cmd := exec.Command(mksquashfs, root, squash, "-noappend", "-all-root", "-quiet", "-no-progress",
		"-all-time", "0", "-mkfs-time", "0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return writeSIF(out, squash, opts.Labels)
}

// findBusybox returns a statically linked busybox: the image has no
// libraries for a dynamic one to load.
func findBusybox() (string, error) {
	for _, p := range []string{"/usr/bin/busybox", "/bin/busybox"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if static, err := isStatic(p); err != nil || !static {
			return "", &missingTool{fmt.Sprintf("%s is not a statically linked busybox (%v); SIF test images need the Debian package busybox-static", p, err)}
		}
		return p, nil
	}
	return "", &missingTool{"building SIF test images needs busybox (Debian package busybox-static)"}
}

// isStatic reports whether the ELF file at p asks for no interpreter.
func isStatic(p string) (bool, error) {
	f, err := elf.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// mountPoints are the directories an image converted from a Docker one
// has and a real runtime mounts over: SingularityCE and Apptainer refuse
// to start a container whose image lacks /dev, and bind /proc, /sys, the
// user's home and the host's /etc files onto what is there. The task's
// own directories are left to the runtime, which makes them.
var mountPoints = []string{"/dev", "/proc", "/sys", "/home", "/root", "/run", "/mnt", "/etc"}

// mountFiles are the files a runtime binds from the host, as Docker does.
var mountFiles = []string{"/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/etc/localtime"}

// makeRoot lays out the image's file system in root.
func makeRoot(root, busybox string, opts Options) error {
	if _, ok := opts.Files[runscriptPath]; ok && opts.Runscript != "" {
		return fmt.Errorf("%s is given both as a file and as Runscript", runscriptPath)
	}
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return err
	}
	base := map[string]string{
		"/etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"/etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	}
	for _, d := range mountPoints {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	for _, f := range mountFiles {
		base[f] = ""
	}
	for p, content := range base {
		if err := writeFile(root, p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := writeFile(root, "/bin/busybox", bin, 0o755); err != nil {
		return err
	}
	for _, applet := range Applets {
		if applet == "sh" && opts.NoShell {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			return err
		}
	}
	// For scripts that start with #!/usr/bin/env.
	if err := os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink("../../bin/busybox", filepath.Join(root, "usr/bin/env")); err != nil {
		return err
	}
	for _, tmp := range []string{"tmp", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(root, tmp), 0o755); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(root, tmp), 0o1777); err != nil {
			return err
		}
	}
	for p, content := range opts.Files {
		if err := writeFile(root, p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	if opts.Runscript != "" {
		return writeFile(root, runscriptPath, []byte(opts.Runscript), 0o755)
	}
	return nil
}

// writeFile writes an image file given by its absolute path in the image.
// The modes of the file and of the directories it makes are exactly mode
// and 0755, whatever the umask, so that the image is reproducible.
func writeFile(root, p string, content []byte, mode os.FileMode) error {
	if !path.IsAbs(p) || path.Clean(p) == "/" {
		return fmt.Errorf("image file %q: want an absolute path of a file", p)
	}
	host := filepath.Join(root, filepath.FromSlash(path.Clean(p)))
	var made []string
	for d := filepath.Dir(host); d != root; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		made = append(made, d)
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	for _, d := range made {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(host, content, mode); err != nil {
		return err
	}
	return os.Chmod(host, mode)
}

// writeSIF wraps the squashfs file into a SIF as its primary system
// partition, with the labels beside it.
func writeSIF(out, squash string, labels map[string]string) error {
	f, err := os.Open(squash)
	if err != nil {
		return err
	}
	defer f.Close()
	part, err := sif.NewDescriptorInput(sif.DataPartition, f,
		sif.OptPartitionMetadata(sif.FsSquash, sif.PartPrimSys, runtime.GOARCH))
	if err != nil {
		return err
	}
	dis := []sif.DescriptorInput{part}
	if len(labels) > 0 {
		b, err := json.Marshal(labels)
		if err != nil {
			return err
		}
		di, err := sif.NewDescriptorInput(sif.DataLabels, bytes.NewReader(b))
		if err != nil {
			return err
		}
		dis = append(dis, di)
	}
	fi, err := sif.CreateContainerAtPath(out, sif.OptCreateWithDescriptors(dis...), sif.OptCreateDeterministic())
	if err != nil {
		return err
	}
	return fi.UnloadContainer()
}

// ReadLabels returns the JSON labels object of the SIF at p, or nil when it
// has none.
func ReadLabels(p string) (map[string]string, error) {
	fi, err := sif.LoadContainerFromPath(p, sif.OptLoadWithFlag(os.O_RDONLY))
	if err != nil {
		return nil, err
	}
	defer fi.UnloadContainer()
	d, err := fi.GetDescriptor(sif.WithDataType(sif.DataLabels))
	if errors.Is(err, sif.ErrObjectNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(d.GetReader())
	if err != nil {
		return nil, err
	}
	var labels map[string]string
	return labels, json.Unmarshal(b, &labels)
}
