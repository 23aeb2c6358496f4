package images

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sylabs/sif/v2/pkg/sif"
)

// Image is a validated SIF image.
type Image struct {
	Path   string            // absolute path of the SIF file
	Name   string            // the image as the workflow named it, or the file's base name
	Digest string            // "sha256:" + hex sha256 of the whole file
	Size   int64             // bytes
	Labels map[string]string // from the SIF's JSON labels object; nil when it has none
	Arch   string            // GOARCH-style architecture of the root file system, e.g. "amd64"
}

// Layout of the SIF global header and descriptors (SIF spec 01), read
// before the sif library sees the file: the library allocates as many
// descriptors as the header claims, so a damaged header could ask for
// terabytes or a negative count. TestSIFLayout pins these numbers.
const (
	sifHeaderSize     = 128
	sifDescrTotalAt   = 88 // int64 DescriptorsTotal
	sifDescriptorSize = 585
	maxLabelsSize     = 1 << 20
)

// Inspect validates the SIF image at path and describes it. It reads the
// whole file once (for the digest) and never mounts it.
func Inspect(path string) (Image, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Image{}, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return Image{}, fmt.Errorf("cannot read image %s: %w", abs, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Image{}, fmt.Errorf("cannot read image %s: %w", abs, err)
	}
	if !st.Mode().IsRegular() {
		return Image{}, fmt.Errorf("%s is not a SIF image: it is not a regular file", abs)
	}
	img := Image{Path: abs, Name: filepath.Base(abs), Size: st.Size()}
	if err := parseSIF(f, &img); err != nil {
		return Image{}, err
	}
	if img.Digest, err = digest(f); err != nil {
		return Image{}, fmt.Errorf("cannot read image %s: %w", abs, err)
	}
	return img, nil
}

// parseSIF fills img.Arch and img.Labels from f's SIF descriptors.
func parseSIF(f *os.File, img *Image) (err error) {
	if err := checkHeader(f, img.Size); err != nil {
		return fmt.Errorf("%s is not a SIF image: %w", img.Path, err)
	}
	// The header check bounds what the library allocates; this catches
	// any other way a damaged file could upset it.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s is not a SIF image: the sif library failed on it: %v", img.Path, p)
		}
	}()
	fi, err := sif.LoadContainer(f, sif.OptLoadWithCloseOnUnload(false))
	if err != nil {
		return fmt.Errorf("%s is not a SIF image: %w", img.Path, err)
	}
	defer fi.UnloadContainer()
	root, err := rootPartition(fi, img)
	if err != nil {
		return err
	}
	if _, _, img.Arch, err = root.PartitionMetadata(); err != nil {
		return fmt.Errorf("%s is a damaged SIF image: %w", img.Path, err)
	}
	img.Labels = labels(fi, img.Size)
	return nil
}

// checkHeader rejects a file whose header claims more descriptors than
// the file could hold.
func checkHeader(r io.ReaderAt, size int64) error {
	var h [sifHeaderSize]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return fmt.Errorf("the file is shorter than a SIF header (%d bytes)", size)
	}
	n := int64(binary.LittleEndian.Uint64(h[sifDescrTotalAt:]))
	if n < 0 || n > size/sifDescriptorSize {
		return fmt.Errorf("its header claims %d descriptors, more than the file's %d bytes can hold", n, size)
	}
	return nil
}

// rootPartition is the SIF's root file system: the data partition of type
// PartPrimSys that Singularity and Apptainer mount as "/".
func rootPartition(fi *sif.FileImage, img *Image) (sif.Descriptor, error) {
	ds, err := fi.GetDescriptors(sif.WithPartitionType(sif.PartPrimSys))
	if err != nil || len(ds) == 0 {
		return sif.Descriptor{}, fmt.Errorf("%s is a SIF file without a root file system partition (no primary system partition), so no container can run from it", img.Path)
	}
	d := ds[0]
	if end := d.Offset() + d.Size(); d.Offset() < 0 || d.Size() < 0 || end > img.Size || end < 0 {
		return sif.Descriptor{}, fmt.Errorf("%s is a truncated SIF image: its root file system ends at byte %d but the file has %d bytes", img.Path, end, img.Size)
	}
	return d, nil
}

// labels reads the SIF's JSON labels objects. Both shapes Singularity has
// written are accepted: a flat {"key": "value"} object and the older
// {"system-partition": {...}}. Labels are informational, so an object
// that cannot be read is skipped rather than failing the image.
func labels(fi *sif.FileImage, size int64) map[string]string {
	ds, err := fi.GetDescriptors(sif.WithDataType(sif.DataLabels))
	if err != nil {
		return nil
	}
	var out map[string]string
	for _, d := range ds {
		if d.Size() < 0 || d.Size() > maxLabelsSize || d.Offset() < 0 || d.Offset()+d.Size() > size {
			continue
		}
		data, err := d.GetData()
		if err != nil {
			continue
		}
		for k, v := range decodeLabels(data) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

func decodeLabels(data []byte) map[string]string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(data, &raw) != nil {
		return nil
	}
	if inner, ok := raw["system-partition"]; ok && len(raw) == 1 {
		raw = nil
		if json.Unmarshal(inner, &raw) != nil {
			return nil
		}
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(v)
		}
	}
	return out
}

// digest is "sha256:<hex>" of the whole of f.
func digest(f io.ReadSeeker) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
