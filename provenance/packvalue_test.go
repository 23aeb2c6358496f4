package provenance

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

// A large value (a wide scatter's output object) is written piece by
// piece, yet stored exactly as its whole JSON encoding would be: the same
// key, the same bytes once decompressed, read back equal.
func TestPackValueOfALargeValueIsItsJSON(t *testing.T) {
	files := make([]any, 3*streamFrom)
	for i := range files {
		files[i] = map[string]any{"class": "File", "path": fmt.Sprintf("/out/<o&ut>_%d.txt", i), "size": int64(i), "checksum": "sha1$00", "ratio": float64(i) / 7, "é": nil}
	}
	v := map[string]any{"outs": files, "empty": []any{}, "none": map[string]any{}, "n": nil}
	blobs := map[string][]byte{}
	p, err := packValue(v, blobs)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(v)
	sum := sha256.Sum256(want)
	if p.ref != hex.EncodeToString(sum[:]) || p.inline != nil {
		t.Fatalf("packed as ref %q inline %d bytes, want ref %x", p.ref, len(p.inline), sum)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blobs[p.ref]))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("stored JSON differs from json.Marshal's (%d and %d bytes)", len(got), len(want))
	}
	back, err := unpackValue(nil, p.ref, func(string) ([]byte, error) { return got, nil }) // the store decompresses
	if err != nil {
		t.Fatal(err)
	}
	if n := len(back.(map[string]any)["outs"].([]any)); n != len(files) {
		t.Errorf("read back %d files, want %d", n, len(files))
	}
}
