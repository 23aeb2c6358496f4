// Package confine decides whether a file lies inside a set of allowed
// directories, judged by where the path really leads.
//
// flowd runs workflows for several teams on one machine, so a submission
// must not name a file it has no business reading: the daemon's key,
// another team's outputs, /etc/shadow. flowd refuses such locations before
// a run starts, and `flow run --allow-path` refuses them again while the
// run loads and binds its inputs, as a second line of defence. Both ask
// the same question through Roots.
//
// Symlinks are resolved before the question is asked: a symlink inside an
// allowed directory that points outside is outside. A path that does not
// exist (yet) is judged by its longest existing ancestor, resolved, with
// the missing rest appended, so that it cannot become a way out once it
// is created; a missing component followed by ".." is refused outright.
package confine

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutside is the refusal of a location outside the allowed directories.
// Its text names no path: callers add the location as the user wrote it,
// never the resolved one, which may reveal the server's layout.
var ErrOutside = errors.New("is outside what this run may read")

// Roots is a set of allowed directories, resolved once.
type Roots struct {
	dirs []string // absolute, symlinks resolved
}

// New resolves dirs (relative ones against the current directory). A
// directory that does not exist is kept as written, resolved as far as
// it exists: it allows nothing until it is made.
func New(dirs ...string) (*Roots, error) {
	r := &Roots{}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		real, err := Resolve(abs)
		if err != nil {
			return nil, err
		}
		r.dirs = append(r.dirs, real)
	}
	return r, nil
}

// Dirs returns the resolved directories.
func (r *Roots) Dirs() []string { return append([]string(nil), r.dirs...) }

// Contains reports whether the absolute path p leads inside one of the
// directories.
func (r *Roots) Contains(p string) bool {
	real, err := Resolve(p)
	if err != nil {
		return false
	}
	for _, d := range r.dirs {
		if Within(real, d) {
			return true
		}
	}
	return false
}

// Check is Contains as an error: nil, or ErrOutside.
func (r *Roots) Check(p string) error {
	if r.Contains(p) {
		return nil
	}
	return ErrOutside
}

// CheckLocation checks a File or Directory location as CWL writes it: a
// file:// URI or a path, relative ones against the directory base. Other
// schemes (http:, ...) are not local files and are refused.
func (r *Roots) CheckLocation(loc, base string) error {
	p, ok := LocalPath(loc, base)
	if !ok {
		return ErrOutside
	}
	return r.Check(p)
}

// LocalPath turns a location (file:// URI, absolute or relative path) into
// an absolute path, not cleaned (so that ".." after a symlink means what
// the kernel makes of it). ok is false for the other URI schemes flow
// knows (http:, https:, urn:, data:, and _: for literals); any other text
// is a relative path, as flow's loader reads it.
func LocalPath(loc, base string) (p string, ok bool) {
	if strings.HasPrefix(loc, "file:") {
		u, err := url.Parse(loc)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return "", false
		}
		loc = u.Path
		if loc == "" {
			return "", false
		}
	} else {
		for _, s := range []string{"http:", "https:", "urn:", "data:", "_:"} {
			if strings.HasPrefix(loc, s) {
				return "", false // not a local file (the schemes flow's loader knows)
			}
		}
	}
	if filepath.IsAbs(loc) {
		return loc, true
	}
	return base + string(filepath.Separator) + loc, true
}

// Resolve returns where the absolute path p really leads: symlinks
// resolved, as the kernel would. When p does not exist, its longest
// existing ancestor is resolved and the rest appended; a ".." in that
// rest is an error, as is any failure other than a missing file.
func Resolve(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err == nil {
		return real, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	parts := strings.Split(p, string(filepath.Separator))
	for i := len(parts) - 1; i > 0; i-- {
		prefix := strings.Join(parts[:i], string(filepath.Separator))
		if prefix == "" {
			prefix = string(filepath.Separator)
		}
		real, err := filepath.EvalSymlinks(prefix)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		rest := parts[i:]
		for _, c := range rest {
			if c == ".." {
				return "", &fs.PathError{Op: "resolve", Path: p, Err: fs.ErrNotExist}
			}
		}
		return filepath.Join(append([]string{real}, rest...)...), nil
	}
	return "", err
}

// Within reports whether the clean absolute path p is dir or inside it.
func Within(p, dir string) bool {
	if dir == "" {
		return false
	}
	if dir == string(filepath.Separator) {
		return filepath.IsAbs(p)
	}
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// Exists reports whether the absolute path p (or a symlink at p) exists
// on this machine.
func Exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
