package engine

import (
	"maps"
	"path/filepath"
	"slices"

	"github.com/flow-cwl/flow/schema"
)

// A finished scatter job's outputs are held until its whole step ends,
// and a 100,000-way scatter holds 100,000 of them. A File object with its
// derived name fields (dirname, nameroot, nameext) besides class,
// location, path, basename, size and checksum has nine entries: one more
// than Go's smallest map holds, which doubles its size; and its location
// is a second copy of its path. So the outputs a scatter keeps are
// slimmed of the fields that path and basename give again, and the
// fields are put back where the values are read (a downstream step's
// inputs); the final output object is built from path and basename.

// derived lists the File and Directory fields that their path gives
// again: the location, and what fillNames computes.
var derived = [...]string{"location", "dirname", "nameroot", "nameext"}

// slimFiles returns v with every File and Directory whose derived fields
// are exactly what fillNames would compute rebuilt without them. Other
// objects are copied as they are; v is not changed.
func slimFiles(v any) any {
	return rebuildFiles(v, func(m map[string]any) map[string]any {
		if !derivable(m) {
			return nil
		}
		out := make(map[string]any, len(m)-len(derived))
		for k, it := range m {
			if !slices.Contains(derived[:], k) {
				out[k] = it
			}
		}
		return out
	})
}

// withNames returns v with the derived fields of its slimmed Files and
// Directories put back, in new maps (v may be read by other steps at the
// same time, so it is not changed).
func withNames(v any) any {
	return rebuildFiles(v, func(m map[string]any) map[string]any {
		p, _ := m["path"].(string)
		if _, ok := m["dirname"]; ok || p == "" {
			return nil
		}
		out := make(map[string]any, len(m)+len(derived))
		maps.Copy(out, m)
		out["location"] = schema.FileURI(p)
		fillNames(out)
		return out
	})
}

// derivable reports whether m has a path and basename, and its derived
// fields are all there and all what its path gives.
func derivable(m map[string]any) bool {
	p, _ := m["path"].(string)
	base, _ := m["basename"].(string)
	if p == "" || base == "" || m["location"] != schema.FileURI(p) || m["dirname"] != filepath.Dir(p) {
		return false
	}
	if m["class"] != "File" {
		_, root := m["nameroot"]
		_, ext := m["nameext"]
		return !root && !ext
	}
	root, ext := splitExt(base)
	return m["nameroot"] == root && m["nameext"] == ext
}

// rebuildFiles copies lists and objects of v, applying fn to every File
// and Directory; fn returns a new map, or nil to keep the one it is given.
// A File or Directory with secondaryFiles or a listing is always copied,
// so that they are rebuilt too.
func rebuildFiles(v any, fn func(map[string]any) map[string]any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, it := range t {
			out[i] = rebuildFiles(it, fn)
		}
		return out
	case map[string]any:
		if !isFileOrDir(t) {
			out := make(map[string]any, len(t))
			for k, it := range t {
				out[k] = rebuildFiles(it, fn)
			}
			return out
		}
		m := fn(t)
		_, sec := t["secondaryFiles"]
		_, lst := t["listing"]
		if m == nil && !sec && !lst {
			return t
		}
		if m == nil {
			m = maps.Clone(t)
		}
		for _, k := range [...]string{"secondaryFiles", "listing"} {
			if l, ok := m[k].([]any); ok {
				m[k] = rebuildFiles(l, fn)
			}
		}
		return m
	}
	return v
}
