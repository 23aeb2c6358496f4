package sandbox

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flow-cwl/flow/executors"
)

// systemArgs are bwrap's arguments that show the system directories
// read-only and hide, inside them (a directory behind an empty one, a
// file behind /dev/null, which a sandbox without devices cannot open), what a task must not see: the entries
// of /etc that not every user may read (password hashes, host keys,
// private keys: when flow runs as root, its tasks are root too, and would
// read them) and the caller's hidden paths.
func systemArgs(system, hide []string) []string {
	var a []string
	var shown []string
	for _, dir := range system {
		fi, err := os.Lstat(dir)
		switch {
		case err != nil:
			continue
		case fi.Mode()&fs.ModeSymlink != 0:
			if target, err := os.Readlink(dir); err == nil {
				a = append(a, "--symlink", target, dir)
			}
		case fi.IsDir():
			a = append(a, "--ro-bind", dir, dir)
			shown = append(shown, dir)
		}
	}
	var masked []string
	for _, dir := range shown {
		if dir == "/etc" {
			masked = append(masked, unreadable(dir)...)
		}
	}
	for _, h := range hide {
		for _, p := range []string{filepath.Clean(h), resolved(h)} {
			if p != "" && visible(nil, shown, p) && !slices.Contains(masked, p) {
				masked = append(masked, p)
			}
		}
	}
	for _, p := range masked {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			a = append(a, "--tmpfs", p)
		} else if err == nil {
			a = append(a, "--ro-bind", os.DevNull, p)
		}
	}
	return a
}

// unreadable lists the files and directories under dir that others (not
// their owner or group) may not read, without descending into such a
// directory.
func unreadable(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if d == nil {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		fi, ierr := d.Info()
		if ierr != nil {
			return nil
		}
		mode := fi.Mode().Perm()
		switch {
		case d.IsDir() && (mode&0o005 != 0o005 || err != nil):
			out = append(out, p)
			return fs.SkipDir
		case !d.IsDir() && mode&0o004 == 0:
			out = append(out, p)
		}
		return nil
	})
	return out
}

func resolved(p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return ""
	}
	return r
}

// sortedMounts orders mounts parents first, so that a mount is never
// hidden by one of a directory above it that bwrap makes later.
func sortedMounts(ms []executors.Mount) []executors.Mount {
	out := slices.Clone(ms)
	slices.SortStableFunc(out, func(a, b executors.Mount) int {
		return strings.Count(filepath.Clean(a.Target), "/") - strings.Count(filepath.Clean(b.Target), "/")
	})
	return out
}
