package images

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Entry is one image file in the cache.
type Entry struct {
	Name     string    // file name in the cache, e.g. "debian:stable-slim.sif"
	Path     string    // absolute path
	Digest   string    // "sha256:<hex>" of the whole file
	Size     int64     // bytes
	LastUsed time.Time // see Cache.List
	Err      error     // why the file is not a usable SIF image, or nil
}

// List describes every image in the cache, sorted by name: the files
// ending in ".sif" or ".img", whether flow or cwltool put them there.
// LastUsed is the modification time of the image's ".used" sidecar,
// which Ensure touches, or, for an image never used through flow, the
// image's own modification time (when it was pulled). A file that is not
// a usable SIF image is listed with Err set, so it can be found and
// removed. A cache directory that does not exist yet is empty.
//
// List reads every image to digest it (remembered per Cache while the
// file is unchanged), so it is slow on a cold, large cache.
func (c *Cache) List() ([]Entry, error) {
	dir := c.dir()
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list the image cache %s: %w", dir, err)
	}
	var out []Entry
	for _, de := range des {
		name := de.Name()
		if isBookkeeping(name) || !(strings.HasSuffix(name, ".sif") || strings.HasSuffix(name, ".img")) {
			continue
		}
		if e, ok := c.entry(filepath.Join(dir, name)); ok {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// entry describes one image file; ok is false when it is not a regular
// file or vanished while listing.
func (c *Cache) entry(path string) (Entry, bool) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return Entry{}, false
	}
	e := Entry{Name: filepath.Base(path), Path: path, Size: st.Size(), LastUsed: st.ModTime()}
	if u, err := os.Stat(path + usedSuffix); err == nil {
		e.LastUsed = u.ModTime()
	}
	img, err := c.inspect(Ref{File: path}, path)
	if err == nil {
		e.Digest = img.Digest
		return e, true
	}
	e.Err = err
	if f, err := os.Open(path); err == nil {
		e.Digest, _ = digest(f)
		f.Close()
	}
	return e, true
}
