package provenance

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"github.com/flow-cwl/flow/internal/digest"
)

// sha1Prefix is how CWL writes a SHA-1 checksum: "sha1$<hex>".
const sha1Prefix = digest.Prefix

// hashFile returns the CWL checksum and size of the file at path.
func hashFile(path string) (string, int64, error) {
	return digest.File(context.Background(), path)
}

// sumOf is hashFile through the checksum memo kept in s, if s keeps one:
// asking about a big output just written asks no byte of it.
func sumOf(ctx context.Context, s Store, path string) (string, int64, error) {
	if ds, ok := s.(digest.Store); ok {
		m := digest.Memo{Store: ds}
		return m.Sum(ctx, path)
	}
	return digest.File(ctx, path)
}

// copyFileHashed copies src to dst (created, never overwritten) and
// returns the checksum of the bytes copied, read once, so the caller can
// tell whether the file still holds the content that was recorded.
func copyFileHashed(src, dst string) (string, int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", 0, err
	}
	sum, n, err := digest.Copy(context.Background(), out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("cannot copy %s to %s: %w", src, dst, err)
	}
	return sum, n, nil
}

// hexOf strips the "sha1$" from a CWL checksum.
func hexOf(sum string) string { return digest.Hex(sum) }

// cwlFile is a File value found in a CWL input or output object.
type cwlFile struct {
	Param string // the top-level parameter it belongs to
	Ref   FileRef
}

// cwlFiles lists the File values (with their secondaryFiles, and Files
// listed in Directories) in a CWL object, parameter by parameter.
func cwlFiles(obj map[string]any) []cwlFile {
	var out []cwlFile
	for _, name := range sortedKeys(obj) {
		walkFiles(obj[name], func(f FileRef) { out = append(out, cwlFile{Param: name, Ref: f}) })
	}
	return out
}

func walkFiles(v any, visit func(FileRef)) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			walkFiles(e, visit)
		}
	case map[string]any:
		class, _ := v["class"].(string)
		if class == "File" {
			if p := cwlPath(v); p != "" {
				sum, _ := v["checksum"].(string)
				visit(FileRef{Path: p, SHA1: sum, Size: toInt64(v["size"])})
			}
		}
		if class == "File" || class == "Directory" {
			walkFiles(v["secondaryFiles"], visit)
			walkFiles(v["listing"], visit)
			return
		}
		for _, k := range sortedKeys(v) {
			walkFiles(v[k], visit)
		}
	}
}

// cwlPath is the local path of a File value: "path", or a file: or
// plain "location".
func cwlPath(f map[string]any) string {
	if p, _ := f["path"].(string); filepath.IsAbs(p) {
		return p
	}
	loc, _ := f["location"].(string)
	if filepath.IsAbs(loc) {
		return loc
	}
	if u, err := url.Parse(loc); err == nil && u.Scheme == "file" {
		return u.Path
	}
	return ""
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
