package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/schema"
)

// stageInputs gives every input File and Directory a place of its own in
// the job's staging directory: a symlink under its basename, with its
// secondary files beside it. The tool sees each input under its basename
// and never at the user's path, so a tool that deletes or renames what it
// was given (bzip2 replaces file with file.bz2) removes only the link. A
// tool that writes into an input through its path still writes through
// the link, as with other runners that stage by symlink; with --sandbox
// or in a container, inputs are read-only.
func (e *Engine) stageInputs(j *job) error {
	j.inputs = deepCopy(j.inputs).(map[string]any)
	j.origin = map[string]string{}
	n := 0
	var stage func(m map[string]any) error
	stage = func(m map[string]any) error {
		if localPath(m) == "" {
			return nil
		}
		n++
		dir := filepath.Join(j.stage, fmt.Sprintf("stg%d", n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, obj := range append([]any{m}, asList(m["secondaryFiles"])...) {
			o, ok := obj.(map[string]any)
			if !ok || localPath(o) == "" {
				continue
			}
			src, err := j.linkInto(o, dir)
			if err != nil {
				return err
			}
			if err := rebaseListing(o, src, localPath(o), stage); err != nil {
				return err
			}
		}
		return nil
	}
	return eachInputObject(j.inputs, stage)
}

// eachInputObject calls fn on each File and Directory of an input object
// that is not inside another (a listing or secondaryFiles is fn's).
func eachInputObject(v any, fn func(m map[string]any) error) error {
	switch t := v.(type) {
	case []any:
		for _, it := range t {
			if err := eachInputObject(it, fn); err != nil {
				return err
			}
		}
	case map[string]any:
		if isFileOrDir(t) {
			return fn(t)
		}
		for _, k := range sortedKeys(t) {
			if err := eachInputObject(t[k], fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// rebaseListing points the listing of a Directory staged from "from" at
// "to": what is inside is seen through the staged directory. An entry
// from elsewhere is staged on its own.
func rebaseListing(d map[string]any, from, to string, stage func(map[string]any) error) error {
	for _, it := range asList(d["listing"]) {
		c, ok := it.(map[string]any)
		if !ok || !isFileOrDir(c) {
			continue
		}
		p := localPath(c)
		if p != from && !strings.HasPrefix(p, from+"/") {
			if err := stage(c); err != nil {
				return err
			}
			continue
		}
		np := to + p[len(from):]
		c["path"], c["dirname"] = np, filepath.Dir(np)
		if err := rebaseListing(c, p, np, stage); err != nil {
			return err
		}
	}
	return nil
}

// linkInto symlinks the file or directory of object o into dir under its
// basename, points o's path there and returns the path it had.
func (j *job) linkInto(o map[string]any, dir string) (string, error) {
	src := localPath(o)
	base, _ := o["basename"].(string)
	if base == "" {
		base = filepath.Base(src)
	}
	dst := filepath.Join(dir, base)
	if err := os.Symlink(src, dst); err != nil && !os.IsExist(err) {
		return "", err
	}
	o["path"] = dst
	o["dirname"] = dir
	j.origin[dst] = src
	if o["class"] == "File" {
		if st, err := os.Stat(src); err == nil {
			if j.stamps == nil {
				j.stamps = map[string]fileStamp{}
			}
			j.stamps[src] = stampOf(st)
		}
	}
	return src, nil
}

// fileStamp is what tells that a file was written: its size, inode and
// modification time.
type fileStamp struct {
	size  int64
	mtime int64
	ino   uint64
}

func stampOf(st os.FileInfo) fileStamp {
	s := fileStamp{size: st.Size(), mtime: st.ModTime().UnixNano()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.ino = sys.Ino
	}
	return s
}

// inputsUntouched fails a job whose command wrote into one of its input
// Files. Staging by symlink keeps a tool from deleting or renaming the
// user's file, but not from writing through the link (only --sandbox and
// containers make inputs read-only): the job's outputs, computed while
// its input changed, are not kept, and the error says which file it was.
// InplaceUpdateRequirement is the way a tool may update its input.
func (j *job) inputsUntouched() error {
	if _, inplace := j.pe.find("InplaceUpdateRequirement"); inplace {
		return nil
	}
	for _, p := range sortedStamps(j.stamps) {
		st, err := os.Stat(p)
		if err != nil || stampOf(st) != j.stamps[p] {
			return fmt.Errorf("job %s changed its input %s, which it may only read (declare InplaceUpdateRequirement, or run with --sandbox to make inputs read-only): %w", j.name, p, ErrPermanentFail)
		}
	}
	return nil
}

func sortedStamps(m map[string]fileStamp) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unstaged is the path p stands for when it leads through a staged
// input: the input's own. Links the job leaves behind in its output
// directory must not lead into the staging directory, which goes when
// the run ends while the outputs (in the step cache) stay.
func (j *job) unstaged(p string) string {
	if len(j.origin) == 0 || !strings.HasPrefix(p, j.stage+"/") {
		return p
	}
	for q := p; q != j.stage && q != "/"; q = filepath.Dir(q) {
		if o, ok := j.origin[q]; ok {
			return o + p[len(q):]
		}
	}
	return p
}

// initialWorkDir stages InitialWorkDirRequirement's listing into the
// output directory: files and directories (linked, or copied when
// writable) and new files made from text.
func (e *Engine) initialWorkDir(j *job) error {
	r, ok := j.pe.find("InitialWorkDirRequirement")
	if !ok {
		return nil
	}
	entries, err := j.iwdEntries(r["listing"])
	if err != nil {
		return fmt.Errorf("InitialWorkDirRequirement: %w", err)
	}
	moved := map[string]string{} // original path → staged path
	for _, ent := range entries {
		if err := e.checkPaths(ent.obj); err != nil {
			return fmt.Errorf("InitialWorkDirRequirement: %w", err)
		}
		if err := j.stageEntry(ent, moved); err != nil {
			return fmt.Errorf("InitialWorkDirRequirement: %w", err)
		}
	}
	if len(moved) > 0 {
		_ = walkFiles(j.inputs, func(m map[string]any) error {
			if dst, ok := moved[localPath(m)]; ok {
				m["path"], m["dirname"] = dst, filepath.Dir(dst)
			}
			return nil
		})
	}
	return nil
}

// iwdEntry is one thing to put in the output directory.
type iwdEntry struct {
	name     string         // entryname, "" for the object's basename
	obj      map[string]any // a File or Directory to stage, or nil
	text     string         // contents of a new file when obj is nil
	writable bool
}

func (j *job) iwdEntries(listing any) ([]iwdEntry, error) {
	if s, ok := listing.(string); ok {
		v, err := j.eval(s, nil)
		if err != nil {
			return nil, err
		}
		listing = v
	}
	var out []iwdEntry
	for _, it := range asList(listing) {
		ents, err := j.iwdItem(it)
		if err != nil {
			return nil, err
		}
		out = append(out, ents...)
	}
	return out, nil
}

func (j *job) iwdItem(it any) ([]iwdEntry, error) {
	switch t := it.(type) {
	case nil:
		return nil, nil
	case string:
		v, err := j.eval(t, nil)
		if err != nil {
			return nil, err
		}
		var out []iwdEntry
		for _, x := range flatten(v) {
			if x == nil {
				continue
			}
			obj, ok := x.(map[string]any)
			if !ok || !isFileOrDir(obj) {
				return nil, fmt.Errorf("the listing entry %q gave %s, expected Files or Directories", t, schema.Describe(x))
			}
			out = append(out, iwdEntry{obj: obj})
		}
		return out, nil
	case []any:
		var out []iwdEntry
		for _, x := range t {
			ents, err := j.iwdItem(x)
			if err != nil {
				return nil, err
			}
			out = append(out, ents...)
		}
		return out, nil
	case map[string]any:
		if isFileOrDir(t) {
			return []iwdEntry{{obj: t}}, nil
		}
		if _, ok := t["entry"]; ok {
			return j.dirent(t)
		}
	}
	return nil, fmt.Errorf("cannot stage %s", schema.Describe(it))
}

// dirent evaluates a Dirent {entryname, entry, writable}. An entry that
// gives Files or Directories stages them (a list of them, without an
// entryname, stages each); text becomes a new file; other values are
// written as JSON.
func (j *job) dirent(d map[string]any) ([]iwdEntry, error) {
	ent := iwdEntry{}
	ent.writable, _ = d["writable"].(bool)
	if n, ok := d["entryname"]; ok && n != nil {
		v, err := j.eval(n, nil)
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("entryname must be text, got %s", schema.Describe(v))
		}
		ent.name = s
	}
	var v any = d["entry"]
	if s, ok := v.(string); ok {
		var err error
		if v, err = j.ev.EvalKeepWhitespace(s, expr.Context{Inputs: j.inputs, Runtime: j.rt}); err != nil {
			return nil, err
		}
	}
	if l, ok := v.([]any); ok && ent.name == "" && allFileOrDir(l) {
		var out []iwdEntry
		for _, it := range l {
			out = append(out, iwdEntry{obj: it.(map[string]any), writable: ent.writable})
		}
		return out, nil
	}
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		ent.text = t
	case map[string]any:
		if isFileOrDir(t) {
			ent.obj = t
			break
		}
		ent.text = expr.ToString(t)
	default:
		ent.text = expr.ToString(v)
	}
	if ent.obj == nil && ent.name == "" {
		return nil, fmt.Errorf("a Dirent whose entry is text needs an entryname")
	}
	return []iwdEntry{ent}, nil
}

func allFileOrDir(l []any) bool {
	for _, it := range l {
		if !isFileOrDir(it) {
			return false
		}
	}
	return true
}

// stageEntry puts one entry into the output directory.
func (j *job) stageEntry(ent iwdEntry, moved map[string]string) error {
	name := ent.name
	if name == "" && ent.obj != nil {
		name, _ = ent.obj["basename"].(string)
		if name == "" {
			name = filepath.Base(localPath(ent.obj))
		}
	}
	dst, err := j.entryPath(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if filepath.IsAbs(name) {
		j.view.add(dst, filepath.Clean(name), ent.writable)
	}
	if ent.obj == nil {
		return os.WriteFile(dst, []byte(ent.text), 0o644)
	}
	src := j.local(localPath(ent.obj))
	if src == "" { // a literal made by an expression
		return writeObject(j.ctx, ent.obj, dst, j.local)
	}
	_, inplace := j.pe.find("InplaceUpdateRequirement")
	switch {
	case ent.writable && !inplace:
		err = cloneTree(j.ctx, src, dst)
	case filepath.IsAbs(name):
		err = os.Symlink(src, dst) // the container binds what it points at
	case j.view == nil:
		err = os.Symlink(j.unstaged(src), dst)
	default:
		err = os.Symlink(j.seen(src), dst)
	}
	if err != nil {
		return err
	}
	moved[j.seen(src)] = j.seen(dst)
	j.staged = append(j.staged, src)
	for _, s := range asList(ent.obj["secondaryFiles"]) {
		if sm, ok := s.(map[string]any); ok {
			if sp := j.local(localPath(sm)); sp != "" {
				sdst := filepath.Join(filepath.Dir(dst), filepath.Base(sp))
				if !exists(sdst) {
					_ = os.Symlink(j.seen(sp), sdst)
				}
			}
		}
	}
	return nil
}

// entryPath is where an InitialWorkDir entry named name goes on disk: in
// the output directory, or, for an absolute name in a container, in a
// place of its own that is then mounted at that name.
func (j *job) entryPath(name string) (string, error) {
	if filepath.IsAbs(name) {
		if j.image == nil {
			return "", fmt.Errorf("entryname %q is an absolute path; that needs a container (DockerRequirement)", name)
		}
		return filepath.Join(j.stage, "abs", fmt.Sprint(len(j.view.mounts)), filepath.Base(name)), nil
	}
	dst := filepath.Clean(filepath.Join(j.outdir, name))
	if dst != j.outdir && !strings.HasPrefix(dst, j.outdir+"/") {
		return "", fmt.Errorf("entryname %q points outside the output directory", name)
	}
	return dst, nil
}

// writeObject writes a File literal's contents, or a Directory literal's
// listing, at dst.
func writeObject(ctx context.Context, o map[string]any, dst string, local func(string) string) error {
	if o["class"] == "File" {
		c, _ := o["contents"].(string)
		return os.WriteFile(dst, []byte(c), 0o644)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, it := range asList(o["listing"]) {
		child, ok := it.(map[string]any)
		if !ok {
			continue
		}
		base, _ := child["basename"].(string)
		if src := local(localPath(child)); src != "" {
			if base == "" {
				base = filepath.Base(src)
			}
			if err := cloneTree(ctx, src, filepath.Join(dst, base)); err != nil {
				return err
			}
			if err := copySecondaries(ctx, child, dst, local); err != nil {
				return err
			}
			continue
		}
		if err := writeObject(ctx, child, filepath.Join(dst, base), local); err != nil {
			return err
		}
	}
	return nil
}

// copySecondaries copies the secondary files of o into dir.
func copySecondaries(ctx context.Context, o map[string]any, dir string, local func(string) string) error {
	for _, s := range asList(o["secondaryFiles"]) {
		sm, ok := s.(map[string]any)
		if !ok {
			continue
		}
		src := local(localPath(sm))
		base, _ := sm["basename"].(string)
		if base == "" {
			base = filepath.Base(src)
		}
		if err := cloneTree(ctx, src, filepath.Join(dir, base)); err != nil {
			return err
		}
	}
	return nil
}
