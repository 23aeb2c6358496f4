package images

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sylabs/sif/v2/pkg/sif"
)

func TestInspectDescribesImage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tool.sif")
	want := writeSIF(t, path, sifSpec{
		arch:   "arm64",
		rootfs: squashfs(t),
		labels: map[string]string{"org.label-schema.name": "tool", "MAINTAINER": "me"},
	})
	img, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if img.Digest != want || img.Size != st.Size() || img.Arch != "arm64" || img.Path != path || img.Name != "tool.sif" {
		t.Errorf("Inspect = %+v; want digest %s, size %d, arch arm64", img, want, st.Size())
	}
	if want := map[string]string{"org.label-schema.name": "tool", "MAINTAINER": "me"}; !reflect.DeepEqual(img.Labels, want) {
		t.Errorf("labels %v, want %v", img.Labels, want)
	}
}

func TestInspectReadsBothLabelShapes(t *testing.T) {
	// Older Singularity nested labels under "system-partition"; values
	// that are not strings are kept as their JSON text.
	for _, raw := range []string{
		`{"system-partition": {"OWNER": "Joana", "version": 2}}`,
		`{"OWNER": "Joana", "version": 2}`,
	} {
		path := filepath.Join(t.TempDir(), "x.sif")
		writeSIF(t, path, sifSpec{raw: []byte(raw)})
		img, err := Inspect(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"OWNER": "Joana", "version": "2"}; !reflect.DeepEqual(img.Labels, want) {
			t.Errorf("labels from %s = %v, want %v", raw, img.Labels, want)
		}
	}
}

func TestInspectWithoutLabels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.sif")
	writeSIF(t, path, sifSpec{})
	img, err := Inspect(path)
	if err != nil || img.Labels != nil {
		t.Errorf("Inspect = %+v, %v; want no labels and no error", img, err)
	}
}

func TestInspectRejectsNonSIF(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"empty.sif":  nil,
		"text.sif":   []byte("FROM debian\n"),
		"docker.sif": bytes.Repeat([]byte{0x1f, 0x8b, 8, 0}, 100), // a gzip'd tarball, say
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Inspect(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+" is not a SIF image: ") {
			t.Errorf("Inspect(%s) error = %v; want %q", name, err, path+" is not a SIF image: ...")
		}
	}
	if _, err := Inspect(dir); err == nil || !strings.Contains(err.Error(), "is not a SIF image") {
		t.Errorf("Inspect(a directory) error = %v", err)
	}
	missing := filepath.Join(dir, "missing.sif")
	if _, err := Inspect(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Inspect(missing) error = %v; want it to name the path", err)
	}
}

func TestInspectRejectsSIFWithoutRootFS(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data-only.sif")
	writeSIF(t, path, sifSpec{noRoot: true})
	_, err := Inspect(path)
	if err == nil || !strings.Contains(err.Error(), path+" is a SIF file without a root file system partition") {
		t.Errorf("error = %v; want it to say the SIF has no root file system", err)
	}
}

func TestInspectRejectsTruncatedImage(t *testing.T) {
	// A download cut short keeps the header but loses the end of the
	// root file system; running it would fail in confusing ways.
	b := sifBytes(t, sifSpec{rootfs: bytes.Repeat([]byte("x"), 4096)})
	path := filepath.Join(t.TempDir(), "cut.sif")
	if err := os.WriteFile(path, b[:len(b)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Inspect(path)
	if err == nil || !strings.Contains(err.Error(), path+" is a truncated SIF image") {
		t.Errorf("error = %v; want it to say the image is truncated", err)
	}
}

func TestInspectRejectsImpossibleDescriptorCount(t *testing.T) {
	// The sif library allocates as many descriptors as the header says.
	b := sifBytes(t, sifSpec{})
	for _, n := range []uint64{1 << 62, 1<<64 - 1} {
		c := append([]byte(nil), b...)
		for i := range 8 {
			c[sifDescrTotalAt+i] = byte(n >> (8 * i))
		}
		path := filepath.Join(t.TempDir(), "huge.sif")
		if err := os.WriteFile(path, c, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Inspect(path); err == nil || !strings.Contains(err.Error(), "is not a SIF image") {
			t.Errorf("descriptor count %#x: error = %v", n, err)
		}
	}
}

// TestSIFLayout pins the header layout checkHeader reads against the sif
// library, so an upgrade that changes it fails here, not in production.
func TestSIFLayout(t *testing.T) {
	fi, err := sif.LoadContainer(sif.NewBuffer(sifBytes(t, sifSpec{})))
	if err != nil {
		t.Fatal(err)
	}
	if fi.DescriptorsOffset() < sifHeaderSize || fi.DescriptorsSize() != fi.DescriptorsTotal()*sifDescriptorSize {
		t.Errorf("descriptors at byte %d, %d of them in %d bytes; checkHeader assumes a %d-byte header and %d-byte descriptors",
			fi.DescriptorsOffset(), fi.DescriptorsTotal(), fi.DescriptorsSize(), sifHeaderSize, sifDescriptorSize)
	}
	b := sifBytes(t, sifSpec{})
	if got := int64(b[sifDescrTotalAt]) | int64(b[sifDescrTotalAt+1])<<8; got != fi.DescriptorsTotal() {
		t.Errorf("descriptor count at byte %d is %d, library says %d", sifDescrTotalAt, got, fi.DescriptorsTotal())
	}
}

func FuzzInspect(f *testing.F) {
	f.Add(sifBytes(f, sifSpec{labels: map[string]string{"a": "b"}}))
	f.Add(sifBytes(f, sifSpec{noRoot: true}))
	f.Add([]byte("SIF_MAGIC"))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.sif")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := Inspect(path)
		if err == nil && (img.Digest != digestOf(data) || img.Size != int64(len(data))) {
			t.Errorf("accepted image with digest %s size %d; file has %s, %d", img.Digest, img.Size, digestOf(data), len(data))
		}
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the file", err)
		}
	})
}
