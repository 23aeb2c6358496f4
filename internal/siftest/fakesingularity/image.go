package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/sylabs/sif/v2/pkg/sif"
)

// cacheDir holds extracted images; FLOW_TEST_SIF_CACHE overrides it.
func cacheDir() string {
	if d := os.Getenv("FLOW_TEST_SIF_CACHE"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "flow-fakesingularity-images")
}

// extract returns the directory holding the root file system of the SIF
// at image, unpacking it on first use. Extractions are keyed by the file's
// sha256, so a rebuilt image is never confused with an old one, and made
// under a lock, so that parallel tasks unpack an image once.
func extract(image string) (string, error) {
	sum, err := fileSHA256(image)
	if err != nil {
		return "", err
	}
	cache := cacheDir()
	root := filepath.Join(cache, sum)
	if _, err := os.Stat(root); err == nil {
		return root, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(root+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(root); err == nil {
		return root, nil // another run unpacked it while we waited
	}
	tmp := fmt.Sprintf("%s.%d.tmp", root, os.Getpid())
	defer os.RemoveAll(tmp)
	if err := unpack(image, tmp); err != nil {
		return "", err
	}
	return root, os.Rename(filepath.Join(tmp, "root"), root)
}

// unpack copies the image's primary squashfs partition to a file in tmp
// and extracts it to tmp/root.
func unpack(image, tmp string) error {
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	fi, err := sif.LoadContainerFromPath(image, sif.OptLoadWithFlag(os.O_RDONLY))
	if err != nil {
		return err
	}
	defer fi.UnloadContainer()
	d, err := fi.GetDescriptor(sif.WithPartitionType(sif.PartPrimSys))
	if err != nil {
		return fmt.Errorf("finding the primary partition: %w", err)
	}
	if fs, _, _, err := d.PartitionMetadata(); err != nil || fs != sif.FsSquash {
		return errors.New("the primary partition is not squashfs; the stand-in runs nothing else")
	}
	part := filepath.Join(tmp, "partition.squashfs")
	if err := copyTo(part, d.GetReader()); err != nil {
		return err
	}
	cmd := exec.Command("unsquashfs", "-d", filepath.Join(tmp, "root"), "-f", "-no-xattrs", "-quiet", "-no-progress", part)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("unsquashfs: %v\n%s", err, out)
	}
	return nil
}

func copyTo(path string, r io.Reader) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
