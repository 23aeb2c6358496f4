package main

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// mount is one thing mounted over the image, in the order applied.
type mount struct {
	kind     string // "proc", "dev", "tmpfs", "bind" or "ro-bind"
	src, dst string
}

// mounts lists what a contained run mounts over the image: /proc, /dev, a
// fresh /tmp and /var/tmp, a home directory (--home's, or an empty one),
// then the binds in the order given, so that a later one covers an
// earlier one as with real runtimes.
func (o *execOptions) mounts() []mount {
	ms := []mount{
		{kind: "proc", dst: "/proc"}, {kind: "dev", dst: "/dev"},
		{kind: "tmpfs", dst: "/tmp"}, {kind: "tmpfs", dst: "/var/tmp"},
	}
	if o.noProc {
		ms = ms[1:]
	}
	switch {
	case o.home != nil:
		if _, err := os.Stat(o.home.src); err != nil {
			fatalf("home directory %s: %v", o.home.src, err)
		}
		ms = append(ms, mount{kind: "bind", src: o.home.src, dst: o.home.dst})
	case !o.noHome:
		ms = append(ms, mount{kind: "tmpfs", dst: o.homeDir()})
	}
	for _, b := range o.binds {
		kind := "bind"
		if b.ro {
			kind = "ro-bind"
		}
		ms = append(ms, mount{kind: kind, src: b.src, dst: path.Clean(b.dst)})
	}
	return ms
}

// sandboxArgs are bwrap's options for running in the image at root.
//
// The image must stay read-only, yet mount points that it lacks (the
// task's directories, /proc in an image without one) must be created. So
// the root, and each image directory that lacks a mount point, is a tmpfs
// holding read-only binds of the image's entries; mount points are made
// in it, and it is made read-only once everything is mounted.
func sandboxArgs(root string, mounts []mount, o *execOptions) []string {
	var args []string
	if o.pid {
		args = append(args, "--unshare-pid")
	}
	if o.ipc {
		args = append(args, "--unshare-ipc")
	}
	layered := layeredDirs(root, mounts)
	for _, d := range layered {
		args = append(args, layer(root, d)...)
	}
	for _, m := range mounts {
		switch m.kind {
		case "proc", "dev":
			args = append(args, "--"+m.kind, m.dst)
		case "tmpfs":
			args = append(args, "--perms", "1777", "--tmpfs", m.dst)
		default:
			args = append(args, "--"+m.kind, m.src, m.dst)
		}
	}
	for _, d := range layered {
		args = append(args, "--remount-ro", d)
	}
	return append(args, "--chdir", o.pwd)
}

// layeredDirs returns the image directories to rebuild as a tmpfs, parents
// first: the root, and for each mount point missing from the image the
// deepest image directory above it.
func layeredDirs(root string, mounts []mount) []string {
	dirs := []string{"/"}
	for _, m := range mounts {
		if d := missingParent(root, m.dst, mounts); d != "" && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	slices.SortFunc(dirs, func(a, b string) int {
		return strings.Count(a, "/") - strings.Count(b, "/")
	})
	return dirs
}

// missingParent returns the image directory in which dst's first missing
// component would have to be made, or "" if no directory of the image
// needs to change: dst exists, or it lies in another mount (where bwrap
// makes mount points itself) or behind a non-directory.
func missingParent(root, dst string, mounts []mount) string {
	cur := "/"
	for _, c := range strings.Split(strings.Trim(dst, "/"), "/") {
		for _, m := range mounts {
			if m.dst != dst && within(cur, m.dst) {
				return ""
			}
		}
		next := path.Join(cur, c)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return cur
		}
		if !fi.IsDir() {
			return ""
		}
		cur = next
	}
	return ""
}

// layer rebuilds image directory d: a tmpfs (bwrap's root already is one)
// holding a read-only bind or symlink for each of the image's entries.
func layer(root, d string) []string {
	var args []string
	if d != "/" {
		args = append(args, "--tmpfs", d)
	}
	entries, err := os.ReadDir(filepath.Join(root, d))
	if err != nil {
		fatalf("reading the image: %v", err)
	}
	for _, e := range entries {
		p := path.Join(d, e.Name())
		host := filepath.Join(root, p)
		if e.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(host)
			if err != nil {
				fatalf("reading the image: %v", err)
			}
			args = append(args, "--symlink", target, p)
			continue
		}
		args = append(args, "--ro-bind", host, p)
	}
	return args
}

// within reports whether container path p is dir or below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// findCommand reports whether name resolves to an executable in the
// container, looking in its PATH as the runtime does before it starts
// anything, so that a missing command fails like it does with them.
func findCommand(root string, mounts []mount, pwd, pathEnv, name string) bool {
	var candidates []string
	if strings.Contains(name, "/") {
		candidates = []string{path.Join(pwd, name)}
		if path.IsAbs(name) {
			candidates = []string{name}
		}
	} else {
		for _, dir := range strings.Split(pathEnv, ":") {
			candidates = append(candidates, path.Join(pwd, dir, name))
			if path.IsAbs(dir) {
				candidates[len(candidates)-1] = path.Join(dir, name)
			}
		}
	}
	for _, c := range candidates {
		if host, ok := hostPath(root, mounts, c); ok && isExecutable(host) {
			return true
		}
	}
	return false
}

// hostPath finds where container path p is on the host: in the last
// mount that covers it, else in the image. Nothing is known to be in a
// tmpfs before the command starts.
func hostPath(root string, mounts []mount, p string) (string, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		m := mounts[i]
		if !within(p, m.dst) {
			continue
		}
		if m.kind != "bind" && m.kind != "ro-bind" {
			return "", false
		}
		return filepath.Join(m.src, strings.TrimPrefix(p, m.dst)), true
	}
	return resolveInRoot(root, p)
}

// resolveInRoot follows the symlinks in p as the container sees them,
// with root as "/", and returns the host path of what p names.
func resolveInRoot(root, p string) (string, bool) {
	resolved, rest := "/", strings.Split(strings.Trim(p, "/"), "/")
	for hops := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, c)
		host := filepath.Join(root, next)
		fi, err := os.Lstat(host)
		if err != nil {
			return "", false
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		target, err := os.Readlink(host)
		if hops++; err != nil || hops > 40 {
			return "", false
		}
		if path.IsAbs(target) {
			resolved = "/"
		}
		rest = append(strings.Split(strings.Trim(target, "/"), "/"), rest...)
	}
	return filepath.Join(root, resolved), true
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
