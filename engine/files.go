package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flow-cwl/flow/internal/digest"
	"github.com/flow-cwl/flow/schema"
)

// This file holds the helpers for CWL File and Directory objects: reading
// their place on disk, filling the derived fields, listing directories.

func isClass(v any, class string) bool {
	m, ok := v.(map[string]any)
	return ok && m["class"] == class
}

func isFileOrDir(v any) bool { return isClass(v, "File") || isClass(v, "Directory") }

// localPath is the path on this machine of a File or Directory object.
func localPath(m map[string]any) string {
	if p, ok := m["path"].(string); ok && p != "" {
		return p
	}
	if l, ok := m["location"].(string); ok {
		return schema.URIPath(l)
	}
	return ""
}

// fileObject builds a File (or Directory) object for a path on disk, with
// the derived name fields filled.
func fileObject(class, path string) map[string]any {
	m := map[string]any{"class": class, "location": schema.FileURI(path), "path": path}
	fillNames(m)
	return m
}

// fillNames sets basename, dirname, nameroot and nameext from path.
func fillNames(m map[string]any) {
	p := localPath(m)
	base, _ := m["basename"].(string)
	if base == "" && p != "" {
		base = filepath.Base(p)
		m["basename"] = base
	}
	if p != "" {
		m["dirname"] = filepath.Dir(p)
	}
	if m["class"] == "File" {
		root, ext := splitExt(base)
		m["nameroot"], m["nameext"] = root, ext
	}
}

// splitExt splits a basename the way CWL's nameroot/nameext do: the
// extension starts at the last dot, unless that dot begins the name.
func splitExt(base string) (string, string) {
	i := strings.LastIndex(base, ".")
	if i <= 0 {
		return base, ""
	}
	return base[:i], base[i:]
}

// checksumFile returns "sha1$..." and the size of the file at path,
// reading it all (callers that may know it already ask a digest.Memo).
func checksumFile(ctx context.Context, path string) (string, int64, error) {
	return digest.File(ctx, path)
}

// contentsLimit is how much loadContents reads (CWL v1.2: 64 KiB).
const contentsLimit = 64 * 1024

func loadContents(m map[string]any) error {
	p := localPath(m)
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("cannot read %s for loadContents: %w", p, err)
	}
	defer f.Close()
	buf := make([]byte, contentsLimit+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	if n > contentsLimit {
		return fmt.Errorf("%s is larger than 64 KiB, the limit of loadContents: %w", p, ErrPermanentFail)
	}
	m["contents"] = string(buf[:n])
	return nil
}

// listDir returns the listing of directory path: File and Directory
// objects sorted by name, with subdirectories listed when deep. A
// symlink to a directory is listed as a Directory, but a deep listing
// descends into it only when it leads inside the tree being listed and
// not to a directory the walk is already in: a symlink loop would
// otherwise be walked without end, and a link to / would list the whole
// machine. The walk stops when ctx is cancelled.
func listDir(ctx context.Context, path string, deep bool) ([]any, error) {
	root, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	return listTree(ctx, path, root, root, map[string]bool{root: true}, deep)
}

// listTree lists path, really at real, a directory inside root;
// ancestors holds the real paths of the directories the walk is in.
func listTree(ctx context.Context, path, real, root string, ancestors map[string]bool, deep bool) ([]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	out := make([]any, 0, len(ents))
	for _, e := range ents {
		p := filepath.Join(path, e.Name())
		isDir, link := e.IsDir(), e.Type()&os.ModeSymlink != 0
		if link {
			if st, err := os.Stat(p); err == nil {
				isDir = st.IsDir()
			}
		}
		if !isDir {
			out = append(out, fileObject("File", p))
			continue
		}
		d := fileObject("Directory", p)
		if deep {
			sreal := filepath.Join(real, e.Name())
			if link {
				if sreal, err = filepath.EvalSymlinks(p); err != nil {
					return nil, err
				}
				if sreal != root && !strings.HasPrefix(sreal, root+string(os.PathSeparator)) || ancestors[sreal] {
					out = append(out, d) // outside the tree, or a loop: not descended
					continue
				}
			}
			ancestors[sreal] = true
			sub, err := listTree(ctx, p, sreal, root, ancestors, true)
			delete(ancestors, sreal)
			if err != nil {
				return nil, err
			}
			d["listing"] = sub
		}
		out = append(out, d)
	}
	return out, nil
}

// walkFiles calls fn for every File and Directory object in v, including
// secondaryFiles and listings, depth first.
func walkFiles(v any, fn func(m map[string]any) error) error {
	switch t := v.(type) {
	case []any:
		for _, it := range t {
			if err := walkFiles(it, fn); err != nil {
				return err
			}
		}
	case map[string]any:
		if isFileOrDir(t) {
			if err := fn(t); err != nil {
				return err
			}
			if err := walkFiles(t["secondaryFiles"], fn); err != nil {
				return err
			}
			return walkFiles(t["listing"], fn)
		}
		for _, k := range sortedKeys(t) {
			if err := walkFiles(t[k], fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// deepCopy copies a plain value so the copy can be changed freely.
func deepCopy(v any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, it := range t {
			out[i] = deepCopy(it)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, it := range t {
			out[k] = deepCopy(it)
		}
		return out
	}
	return v
}
