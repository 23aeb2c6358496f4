package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/flow-cwl/flow/internal/digest"
	"github.com/flow-cwl/flow/schema"
	"golang.org/x/sys/unix"
)

// Relocate moves the files of an output object into outdir and returns
// the object rewritten to point at them, with checksums, sizes and full
// directory listings. Files produced under the run's work directory are
// moved; anything else (a cached output, an input passed through) is
// cloned or copied, so that no file in outdir shares its inode with the
// cache or with another run's outputs. Each output is written under a
// temporary name and renamed into place, replacing a file of the same
// name, unless that file is an input of the run.
//
// Relocate takes outputs over: the items of its lists are let go of as
// they are placed, and its File objects become those of the result, so
// that a large output object is not held twice; the caller uses the
// object returned instead.
func (e *Engine) Relocate(ctx context.Context, outputs map[string]any, outdir string) (map[string]any, error) {
	outdir, err := filepath.Abs(outdir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create output directory: %w", err)
	}
	r := &relocator{ctx: ctx, sums: e.sums, inputs: e.inputReals(), outdir: outdir, done: map[string]string{}, taken: map[string]bool{}, suffix: map[string]int{},
		real: map[string]string{}, dirs: map[string]map[string]any{}}
	if root, err := filepath.EvalSymlinks(e.root); err == nil {
		r.workRoot = root
	}
	// The result is built anew, File by File, rather than by changing a
	// deep copy, and each output is let go of once placed: a 100,000-way
	// scatter's outputs are not held twice.
	r.resolve(outputs)
	r.release = !sharesLists(outputs, map[*any]bool{})
	out := make(map[string]any, len(outputs))
	for _, k := range sortedKeys(outputs) {
		v, err := r.value(outputs[k])
		if err != nil {
			return nil, err
		}
		out[k] = v
		if r.release {
			outputs[k] = nil
		}
	}
	return out, nil
}

type relocator struct {
	ctx      context.Context
	release  bool              // let go of each output value once placed: no list in it is shared
	sums     *Cache            // the run's checksum memo
	inputs   map[string]string // real path → path, of the run's input Files and Directories
	outdir   string
	workRoot string                    // the run's work directory, symlinks resolved ("" if it cannot be)
	done     map[string]string         // source path → destination
	taken    map[string]bool           // destination names in use
	suffix   map[string]int            // last numeric suffix tried per basename
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
			if rp != p {
				real = rp // else p's own string: no second copy per file
			}
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

// sharesLists reports whether one list appears twice in v (two workflow
// outputs from one source): its items cannot be let go of after the first.
func sharesLists(v any, seen map[*any]bool) bool {
	switch t := v.(type) {
	case []any:
		if len(t) > 0 {
			if seen[&t[0]] {
				return true
			}
			seen[&t[0]] = true
		}
		for _, it := range t {
			if sharesLists(it, seen) {
				return true
			}
		}
	case map[string]any:
		for _, it := range t {
			if sharesLists(it, seen) {
				return true
			}
		}
	}
	return false
}

// value returns v with every File and Directory in it placed in the
// output directory. The items of v's lists are released as they are
// placed (see Relocate).
func (r *relocator) value(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, it := range t {
			nv, err := r.value(it)
			if err != nil {
				return nil, err
			}
			out[i] = nv
			if r.release {
				t[i] = nil
			}
		}
		return out, nil
	case map[string]any:
		if isFileOrDir(t) {
			return r.object(t)
		}
		out := make(map[string]any, len(t))
		for k, it := range t {
			nv, err := r.value(it)
			if err != nil {
				return nil, err
			}
			out[k] = nv
		}
		return out, nil
	}
	return v, nil
}

func (r *relocator) object(m map[string]any) (map[string]any, error) {
	src := localPath(m)
	if src == "" {
		return m, nil // a literal without a place (e.g. File with contents only)
	}
	// A file's checksum is that of its source, known since the job's
	// outputs were collected: moved, cloned or copied, dst holds the same
	// bytes, which are not read again.
	var sum string
	var size int64
	if m["class"] == "File" && !r.placed(src) {
		sum, size, _ = r.sums.sha1Of(r.ctx, src)
	}
	dst, err := r.place(src, m, sum)
	if err != nil {
		return nil, err
	}
	if m["class"] == "File" && sum == "" { // placed already, through another path or in its directory
		if sum, size, err = r.sums.sha1Of(r.ctx, dst); err != nil {
			return nil, err
		}
	}
	if m["class"] == "File" && r.release {
		return r.fileInPlace(m, dst, sum, size)
	}
	res := map[string]any{"class": m["class"], "location": schema.FileURI(dst), "path": dst, "basename": filepath.Base(dst)}
	for _, k := range []string{"format", "contents"} {
		if v, ok := m[k]; ok {
			res[k] = v
		}
	}
	if m["class"] == "File" {
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
	listing, err := listDir(r.ctx, dst, true)
	if err != nil {
		return nil, err
	}
	res["listing"] = r.finishListing(listing)
	return res, nil
}

// fileInPlace turns the File m, placed at dst, into the File of the
// result: the same fields as a new object would have, in the map the
// caller let go of (see Relocate). A 100,000-way scatter's outputs are
// then not held twice while the last ones are placed.
func (r *relocator) fileInPlace(m map[string]any, dst, sum string, size int64) (map[string]any, error) {
	for k := range m {
		switch k {
		case "class", "format", "contents", "secondaryFiles":
		default:
			delete(m, k)
		}
	}
	m["location"], m["path"], m["basename"] = schema.FileURI(dst), dst, filepath.Base(dst)
	m["checksum"], m["size"] = sum, size
	if sec, ok := m["secondaryFiles"].([]any); ok {
		nsec, err := r.value(sec)
		if err != nil {
			return nil, err
		}
		m["secondaryFiles"] = nsec
	}
	return m, nil
}

// finishListing adds checksums and sizes to the Files of a listing.
func (r *relocator) finishListing(l []any) []any {
	for _, it := range l {
		m := it.(map[string]any)
		delete(m, "dirname")
		delete(m, "nameroot")
		delete(m, "nameext")
		if m["class"] == "File" {
			if sum, size, err := r.sums.sha1Of(r.ctx, localPath(m)); err == nil {
				m["checksum"], m["size"] = sum, size
			}
		} else if sub, ok := m["listing"].([]any); ok {
			r.finishListing(sub)
		}
	}
	return l
}

// placed reports whether the file at src is in the output directory
// already, placed through another path that leads to it.
func (r *relocator) placed(src string) bool {
	real := src
	if rp, ok := r.real[src]; ok {
		real = rp
	}
	_, ok := r.done[real]
	return ok
}

// place moves or copies src into the output directory once, under its
// basename (made unique when two outputs share a name). sum is src's
// checksum if it is a File whose checksum is known.
func (r *relocator) place(src string, m map[string]any, sum string) (string, error) {
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
		ddst, err := r.place(localPath(dm), dm, "")
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
	// Outputs of this run that share a name get distinct ones (_2, _3,
	// as cwltool does); scatter jobs often share a name, so remember
	// where the search for a free one stopped: placing n costs n, not n².
	// A file left by an earlier run is replaced instead.
	for r.taken[dst] {
		r.suffix[base]++
		dst = filepath.Join(r.outdir, fmt.Sprintf("%s_%d", base, r.suffix[base]+1))
	}
	r.taken[dst] = true
	if _, err := os.Lstat(dst); err == nil {
		if dreal, err := filepath.EvalSymlinks(dst); err == nil && dreal == real {
			r.done[real] = dst // already there: an input in outdir, passed through
			return dst, nil
		}
		if err := r.replaceable(dst); err != nil {
			return "", err
		}
		if r.holds(dst, src, sum) {
			r.done[real] = dst
			return dst, nil
		}
	}
	// What the run made moves in one rename, which replaces an earlier
	// file atomically; anything else is written beside dst first.
	if r.ownedByRun(src) && r.sums.memoOf().Rename(r.ctx, src, dst) == nil {
		r.done[real] = dst
		return dst, nil
	}
	part := filepath.Join(r.outdir, fmt.Sprintf(".%s.flow-%d-%d", base, os.Getpid(), partSeq.Add(1)))
	// A cached output, or an input passed through: the cache and the
	// input keep theirs, and the user gets a file of their own.
	err := r.copyOut(src, part, dst, sum)
	if err != nil {
		_ = os.RemoveAll(part)
		return "", fmt.Errorf("cannot write output %s to %s: %w", src, dst, err)
	}
	r.done[real] = dst
	return dst, nil
}

// copyOut copies src to part, then renames part to dst. A File whose
// checksum is known keeps it through both, so that a later run asking
// about dst reads nothing: src's identity is the same after the copy as
// before, so part holds the bytes sum is of.
func (r *relocator) copyOut(src, part, dst, sum string) error {
	memo := r.sums.memoOf()
	before, known := identity(src)
	if err := cloneTree(r.ctx, src, part); err != nil {
		return err
	}
	if after, ok := identity(src); sum == "" || !known || !ok || after != before {
		return replace(part, dst)
	}
	memo.Wrote(r.ctx, part, sum)
	if memo.Rename(r.ctx, part, dst) == nil {
		return nil
	}
	return replace(part, dst)
}

// identity is the identity of the regular file at path.
func identity(path string) (digest.Identity, bool) {
	st, err := os.Stat(path)
	if err != nil {
		return digest.Identity{}, false
	}
	return digest.IdentityOf(st)
}

// holds reports whether dst, a file of the output directory, is known
// (by the memo, without reading it) to hold what src holds, so that a
// copy of src would change nothing: a re-run into the --outdir of an
// earlier one, whose outputs come from the cache, rewrites none that the
// user left as they were. Only copies are spared; what the run made
// itself moves in.
func (r *relocator) holds(dst, src, sum string) bool {
	if sum == "" || r.ownedByRun(src) {
		return false
	}
	st, err := os.Lstat(dst)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	return r.sums.memoOf().Known(r.ctx, dst) == sum
}

// partSeq numbers the temporary names outputs are written under.
var partSeq atomic.Int64

// inputReals maps the real path of each input File and Directory of the
// run to its path as given.
func (e *Engine) inputReals() map[string]string {
	m := map[string]string{}
	e.inputs.Range(func(k, v any) bool {
		m[k.(string)] = v.(string)
		return true
	})
	return m
}

// replaceable refuses dst when it is, or holds, an input of the run: an
// output must not destroy what the run read.
func (r *relocator) replaceable(dst string) error {
	real, err := filepath.EvalSymlinks(dst)
	if err != nil {
		return nil // nothing there (or a dangling link, which is replaced)
	}
	for in, p := range r.inputs {
		if in == real || strings.HasPrefix(in, real+string(os.PathSeparator)) {
			return fmt.Errorf("output %s would replace %s, an input of this run; choose another --outdir", dst, p)
		}
	}
	return nil
}

// replace renames part to dst, replacing whatever dst was. A file
// replaces a file in one rename, so dst is at all times the old output
// or the new one; a directory, or a file in place of a directory, takes
// the old one aside first.
func replace(part, dst string) error {
	err := os.Rename(part, dst)
	if err == nil {
		return nil
	}
	if _, serr := os.Lstat(dst); serr != nil {
		return err
	}
	old := part + ".old"
	if err := os.Rename(dst, old); err != nil {
		return err
	}
	if err := os.Rename(part, dst); err != nil {
		_ = os.Rename(old, dst)
		return err
	}
	return os.RemoveAll(old)
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
func copyTree(src, dst string) error { return cloneTree(context.Background(), src, dst) }

// cloneTree copies a file or a directory tree, following symlinks; each
// file is a copy-on-write clone where the file system can make one.
func cloneTree(ctx context.Context, src, dst string) error {
	return cloneInto(ctx, src, dst, map[devIno]bool{})
}

// devIno names a directory whatever path leads to it.
type devIno struct{ dev, ino uint64 }

// cloneInto copies src to dst; ancestors are the directories the copy is
// in, so that a symlink back to one of them is an error rather than a
// copy without end.
func cloneInto(ctx context.Context, src, dst string, ancestors map[devIno]bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return cloneFile(ctx, src, dst, st.Mode().Perm()|0o200)
	}
	var id devIno
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		id = devIno{uint64(sys.Dev), sys.Ino}
		if ancestors[id] {
			return fmt.Errorf("%s leads back to a directory that holds it (a symlink loop)", src)
		}
		ancestors[id] = true
		defer delete(ancestors, id)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := cloneInto(ctx, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), ancestors); err != nil {
			return err
		}
	}
	return nil
}

// copyChunk is how much cloneFile copies between checks of its context.
const copyChunk = 64 << 20

// cloneFile makes dst a new file with src's contents: a copy-on-write
// clone (FICLONE: btrfs, XFS, overlayfs on them) when the file system
// offers one, else a copy, made in the kernel by copy_file_range where
// it can be, checking ctx between chunks.
func cloneFile(ctx context.Context, src, dst string, mode os.FileMode) error {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NONBLOCK, 0) // a FIFO must not wait for a writer
	if err != nil {
		return err
	}
	defer in.Close()
	if st, err := in.Stat(); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s is %s, not a regular file", src, digest.Kind(st.Mode()))
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if unix.IoctlFileClone(int(out.Fd()), int(in.Fd())) == nil {
		return out.Close()
	}
	for {
		if err := ctx.Err(); err != nil {
			out.Close()
			return err
		}
		n, err := io.CopyN(out, in, copyChunk)
		if err == io.EOF || err == nil && n < copyChunk {
			break
		}
		if err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}
