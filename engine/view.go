package engine

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/executors"
)

// Where a job's command sees its files. Normally it sees flow's own
// paths. On a cluster that does not share flow's file system (and, in a
// container, inside the image) it sees them elsewhere: the job's output
// directory and tmpdir at other paths, each input at a path of its own.
//
// A pathView is that map for one job. The command line, the environment,
// the streams and InitialWorkDir's texts are evaluated against view paths,
// while flow itself goes on working with its own: it stages inputs before
// and collects outputs after with local paths. The executor makes the map
// true (Task.Mounts): uploads for a remote machine, binds for a container.
type pathView struct {
	mounts []executors.Mount
	// prefix, when set, maps every path outside the mounts too: p is seen
	// as prefix+p (a mirror of flow's tree, say a staged file's dirname).
	prefix string
	// aliases map directories that are not mounted themselves but whose
	// mounted files the command sees together elsewhere (a dirname).
	aliases map[string]string
}

// remoteView mirrors the paths of job j under root on the remote machine:
// p is seen as root+p. Each job has a root of its own, so that jobs
// running at once never share a staged file or directory, and the job's
// remote files go with its root.
func remoteView(j *job, root string) *pathView {
	v := &pathView{prefix: root}
	v.add(j.outdir, v.target(j.outdir), true)
	v.add(j.tmpdir, v.target(j.tmpdir), true)
	_ = walkFiles(j.inputs, func(m map[string]any) error {
		if p := localPath(m); p != "" && !v.covers(p) {
			v.add(p, v.target(p), false)
		}
		return nil
	})
	return v
}

// sandboxView shows job j its own directories, writable, and its
// inputs, read-only, each at its own path: the view of a job in a sandbox
// on this machine. A staged input (a symlink in the job's staging
// directory) is shown at both ends, so a link to it the tool or
// InitialWorkDir makes still leads somewhere.
func sandboxView(j *job) *pathView {
	v := &pathView{}
	v.add(j.outdir, j.outdir, true)
	v.add(j.tmpdir, j.tmpdir, true)
	_ = walkFiles(j.inputs, func(m map[string]any) error {
		p := localPath(m)
		if p == "" || !filepath.IsAbs(p) {
			return nil
		}
		for _, q := range []string{p, realPath(p)} {
			if q != "" && !v.covers(q) {
				v.add(q, q, false)
			}
		}
		return nil
	})
	return v
}

// realPath is p with every symbolic link resolved, or "" when it cannot
// be.
func realPath(p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return ""
	}
	return r
}

func (v *pathView) add(source, target string, writable bool) {
	v.mounts = append(v.mounts, executors.Mount{Source: source, Target: target, Writable: writable})
}

// covers reports whether p is a mounted path or inside one.
func (v *pathView) covers(p string) bool {
	_, ok := v.lookup(p, func(m executors.Mount) string { return m.Source })
	return ok
}

// target is where the command sees flow's path p; a path outside every
// mount is the same in both.
func (v *pathView) target(p string) string {
	m, ok := v.lookup(p, func(m executors.Mount) string { return m.Source })
	if !ok {
		if a, ok := v.aliases[p]; ok {
			return a
		}
		if v.prefix != "" && path.IsAbs(p) {
			return path.Join(v.prefix, p)
		}
		return p
	}
	return m.Target + strings.TrimPrefix(p, m.Source)
}

// source is flow's path for the command's path p.
func (v *pathView) source(p string) string {
	m, ok := v.lookup(p, func(m executors.Mount) string { return m.Target })
	if !ok {
		for local, a := range v.aliases {
			if a == p {
				return local
			}
		}
		if v.prefix != "" && strings.HasPrefix(p, v.prefix+"/") {
			return strings.TrimPrefix(p, v.prefix)
		}
		return p
	}
	return m.Source + strings.TrimPrefix(p, m.Target)
}

// lookup finds the mount whose side (Source or Target) is p or the
// longest parent of p.
func (v *pathView) lookup(p string, side func(executors.Mount) string) (executors.Mount, bool) {
	var best executors.Mount
	found := false
	for _, m := range v.mounts {
		s := side(m)
		if (p == s || strings.HasPrefix(p, s+"/")) && (!found || len(s) > len(side(best))) {
			best, found = m, true
		}
	}
	return best, found
}

// mapFiles returns a copy of val whose File and Directory objects have
// their path and dirname passed through f.
func mapFiles(val any, f func(string) string) any {
	val = deepCopy(val)
	_ = walkFiles(val, func(m map[string]any) error {
		for _, k := range []string{"path", "dirname"} {
			if s, ok := m[k].(string); ok && s != "" {
				m[k] = f(s)
			}
		}
		return nil
	})
	return val
}

// enterView switches the job to its command's view: inputs and runtime
// paths as the command sees them.
func (j *job) enterView(v *pathView) {
	j.view = v
	j.inputs = mapFiles(j.inputs, v.target).(map[string]any)
	j.rt["outdir"], j.rt["tmpdir"] = v.target(j.outdir), v.target(j.tmpdir)
}

// leaveView switches the job back to flow's own paths for collecting its
// outputs, and points symlinks the command's side made (or found staged)
// in the output directory at flow's paths again, and those that lead
// through a staged input at the input. The view stays known: paths the
// command wrote (cwl.output.json) are mapped back with local.
func (j *job) leaveView() error {
	v := j.view
	if v != nil {
		j.inputs = mapFiles(j.inputs, v.source).(map[string]any)
		j.rt["outdir"], j.rt["tmpdir"] = j.outdir, j.tmpdir
	} else if len(j.origin) == 0 {
		return nil
	}
	return filepath.WalkDir(j.outdir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink == 0 {
			return err
		}
		dst, err := os.Readlink(p)
		if err != nil || !filepath.IsAbs(dst) {
			return err
		}
		src := dst
		if v != nil {
			src = v.source(dst)
		}
		if src = j.unstaged(src); src != dst {
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Symlink(src, p)
		}
		return nil
	})
}

// local is flow's path for a path the job's expressions produced.
func (j *job) local(p string) string {
	if j.view == nil {
		return p
	}
	return j.view.source(p)
}

// seen is where the job's command sees flow's path p.
func (j *job) seen(p string) string {
	if j.view == nil {
		return p
	}
	return j.view.target(p)
}
