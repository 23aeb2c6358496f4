package engine

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/schema"
)

// Relocate moves the files of an output object into outdir and returns
// the object rewritten to point at them, with checksums, sizes and full
// directory listings. Files produced under the run's work directory are
// moved; anything else (an input passed through) is copied.
func (e *Engine) Relocate(outputs map[string]any, outdir string) (map[string]any, error) {
	outdir, err := filepath.Abs(outdir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create output directory: %w", err)
	}
	r := &relocator{outdir: outdir, done: map[string]string{}, taken: map[string]bool{}, suffix: map[string]int{},
		real: map[string]string{}, dirs: map[string]map[string]any{}}
	if root, err := filepath.EvalSymlinks(e.root); err == nil {
		r.workRoot = root
	}
	if e.opts.Cache != nil {
		r.cacheDir = e.opts.Cache.Dir
	}
	out := deepCopy(outputs).(map[string]any)
	r.resolve(out)
	for _, k := range sortedKeys(out) {
		v, err := r.value(out[k])
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

type relocator struct {
	outdir   string
	workRoot string                    // the run's work directory, symlinks resolved ("" if it cannot be)
	done     map[string]string         // source path → destination
	taken    map[string]bool           // destination names in use
	suffix   map[string]int            // last numeric suffix tried per basename
	cacheDir string                    // files from here are hard-linked, not copied
	real     map[string]string         // source path → where it really is, when that could be found
	dirs     map[string]map[string]any // real path → an output Directory there
}

// resolve finds where every output File and Directory really is, before
// anything moves. Outputs that are one file under several paths (an
// InplaceUpdate step's output is its input, through a symlink) are then
// placed once, at one location; and a File inside an output Directory
// goes where that Directory goes, instead of being taken out of it.
func (r *relocator) resolve(out map[string]any) {
	_ = walkFiles(out, func(m map[string]any) error {
		p := localPath(m)
		if p == "" {
			return nil
		}
		real := p
		if rp, err := filepath.EvalSymlinks(p); err == nil {
			real = rp
			r.real[p] = real
		}
		if m["class"] == "Directory" {
			if _, ok := r.dirs[real]; !ok {
				r.dirs[real] = m
			}
		}
		return nil
	})
}

// enclosing returns the output Directory that holds the file really at
// real, and where that Directory really is, if one does.
func (r *relocator) enclosing(real string) (map[string]any, string, bool) {
	for d := filepath.Dir(real); d != real; real, d = d, filepath.Dir(d) {
		if m, ok := r.dirs[d]; ok {
			return m, d, true
		}
	}
	return nil, "", false
}

func (r *relocator) value(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		for i, it := range t {
			nv, err := r.value(it)
			if err != nil {
				return nil, err
			}
			t[i] = nv
		}
	case map[string]any:
		if isFileOrDir(t) {
			return r.object(t)
		}
		for k, it := range t {
			nv, err := r.value(it)
			if err != nil {
				return nil, err
			}
			t[k] = nv
		}
	}
	return v, nil
}

func (r *relocator) object(m map[string]any) (map[string]any, error) {
	src := localPath(m)
	if src == "" {
		return m, nil // a literal without a place (e.g. File with contents only)
	}
	dst, err := r.place(src, m)
	if err != nil {
		return nil, err
	}
	res := map[string]any{"class": m["class"], "location": schema.FileURI(dst), "path": dst, "basename": filepath.Base(dst)}
	for _, k := range []string{"format", "contents"} {
		if v, ok := m[k]; ok {
			res[k] = v
		}
	}
	if m["class"] == "File" {
		sum, size, err := checksumFile(dst)
		if err != nil {
			return nil, err
		}
		res["checksum"], res["size"] = sum, size
		if sec, ok := m["secondaryFiles"].([]any); ok {
			nsec, err := r.value(sec)
			if err != nil {
				return nil, err
			}
			res["secondaryFiles"] = nsec
		}
		return res, nil
	}
	listing, err := listDir(dst, true)
	if err != nil {
		return nil, err
	}
	res["listing"] = r.finishListing(listing)
	return res, nil
}

// finishListing adds checksums and sizes to the Files of a listing.
func (r *relocator) finishListing(l []any) []any {
	for _, it := range l {
		m := it.(map[string]any)
		delete(m, "dirname")
		delete(m, "nameroot")
		delete(m, "nameext")
		if m["class"] == "File" {
			if sum, size, err := checksumFile(localPath(m)); err == nil {
				m["checksum"], m["size"] = sum, size
			}
		} else if sub, ok := m["listing"].([]any); ok {
			r.finishListing(sub)
		}
	}
	return l
}

// place moves or copies src into the output directory once, under its
// basename (made unique when two outputs share a name).
func (r *relocator) place(src string, m map[string]any) (string, error) {
	real := src
	if rp, ok := r.real[src]; ok {
		real = rp
	}
	if d, ok := r.done[real]; ok {
		return d, nil
	}
	if strings.HasPrefix(src, r.outdir+string(os.PathSeparator)) {
		r.done[real] = src
		return src, nil
	}
	if dm, dreal, ok := r.enclosing(real); ok {
		ddst, err := r.place(localPath(dm), dm)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dreal, real)
		r.done[real] = filepath.Join(ddst, rel)
		return r.done[real], nil
	}
	base, _ := m["basename"].(string)
	if base == "" {
		base = filepath.Base(src)
	}
	dst := filepath.Join(r.outdir, base)
	// Scatter jobs often share a name; remember where the search for a
	// free one stopped so placing n of them costs n, not n².
	for r.taken[dst] || exists(dst) {
		r.suffix[base]++
		dst = filepath.Join(r.outdir, fmt.Sprintf("%s_%d", base, r.suffix[base]+1))
	}
	r.taken[dst] = true
	var err error
	if r.ownedByRun(src) {
		err = os.Rename(src, dst)
		if err != nil {
			err = copyTree(src, dst)
		}
	} else if r.cacheDir != "" && strings.HasPrefix(src, r.cacheDir+string(os.PathSeparator)) {
		// The cache keeps its copy; a hard link shares it at no cost. An
		// edit through the link shows up as a checksum mismatch, and the
		// cache then drops the entry instead of reusing it.
		err = linkTree(src, dst, r.cacheDir)
	} else {
		err = copyTree(src, dst)
	}
	if err != nil {
		return "", fmt.Errorf("cannot move output %s to %s: %w", src, dst, err)
	}
	r.done[real] = dst
	return dst, nil
}

// ownedByRun reports whether path really lives in the run's work
// directory, after following every symlink on the way. Only such files may
// be moved: a path can pass through a staged symlink into an input
// directory, and moving from there would take the user's file away.
func (r *relocator) ownedByRun(path string) bool {
	if isSymlink(path) || r.workRoot == "" {
		return false
	}
	real, ok := r.real[path] // resolved before anything moved
	if !ok {
		var err error
		if real, err = filepath.EvalSymlinks(path); err != nil {
			return false
		}
	}
	return strings.HasPrefix(real, r.workRoot+string(os.PathSeparator))
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func isSymlink(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.Mode()&os.ModeSymlink != 0
}

// copyTree copies a file or a directory tree, following symlinks.
func copyTree(src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return copyFile(src, dst, st.Mode().Perm()|0o200)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := copyTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// linkTree hard-links a file, or every file of a directory tree, whose
// real place is inside root; it copies anything else (a symlink to an
// input, so that editing the output cannot change the input) and where
// links cannot be made (another file system).
func linkTree(src, dst, root string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		real, err := filepath.EvalSymlinks(src)
		if err == nil && strings.HasPrefix(real, root+string(os.PathSeparator)) && os.Link(real, dst) == nil {
			return nil
		}
		return copyFile(src, dst, st.Mode().Perm()|0o200)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := linkTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), root); err != nil {
			return err
		}
	}
	return nil
}
