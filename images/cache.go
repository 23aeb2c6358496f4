package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Cache is one directory of SIF images. The zero value of every field
// but Dir is usable; a Cache must not be copied after first use.
type Cache struct {
	Dir     string
	Puller  Puller         // fetches missing images; nil means none can be pulled
	Log     zerolog.Logger // pulls at info, bookkeeping trouble at debug
	Offline bool           // never pull: a missing image is an error

	mu      sync.Mutex
	seen    map[string]seenImage     // Inspect results by path, see inspect
	pulling map[string]chan struct{} // one pull at a time per image, see turn
}

type seenImage struct {
	size  int64
	mtime time.Time
	img   Image
}

// DefaultDir is the cache directory: $FLOW_SINGULARITY_CACHE, else
// $CWL_SINGULARITY_CACHE (cwltool's variable, so both tools share one
// cache), else "flow/singularity" under the user's cache directory
// ($XDG_CACHE_HOME or ~/.cache).
func DefaultDir() (string, error) {
	for _, v := range []string{"FLOW_SINGULARITY_CACHE", "CWL_SINGULARITY_CACHE"} {
		if d := os.Getenv(v); d != "" {
			return filepath.Abs(d)
		}
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no directory for the image cache: set FLOW_SINGULARITY_CACHE (%w)", err)
	}
	return filepath.Join(base, "flow", "singularity"), nil
}

// Path is where a pull puts the image: Dir joined with cwltool's name
// for it (see the package documentation). A Ref with a File has no place
// in the cache; Path returns the File.
func (c *Cache) Path(r Ref) string {
	if r.File != "" {
		return r.File
	}
	return filepath.Join(c.dir(), r.fileName())
}

// dir is Dir made absolute, so paths handed out stay valid if the
// process changes directory.
func (c *Cache) dir() string {
	if abs, err := filepath.Abs(c.Dir); err == nil {
		return abs
	}
	return c.Dir
}

// Lookup finds an image already on disk, under any name cwltool or flow
// would have given it, without network, lock or side effects.
func (c *Cache) Lookup(r Ref) (path string, ok bool) {
	if r.File != "" {
		return r.File, isFile(r.File)
	}
	for _, name := range r.candidates() {
		p := filepath.Join(c.dir(), name)
		if isFile(p) {
			return p, true
		}
	}
	return "", false
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Ensure returns the image r names, validated. An image on disk is used
// as it is, without the Puller; a missing one is pulled once, under a
// lock that other goroutines and processes wait on, then validated and
// moved into place.
func (c *Cache) Ensure(ctx context.Context, r Ref) (Image, error) {
	if r.File != "" {
		return c.inspect(r, r.File)
	}
	if r.key() == "" {
		return Image{}, errors.New("the DockerRequirement names no image: it has neither dockerPull nor dockerImageId")
	}
	if c.Dir == "" {
		return Image{}, fmt.Errorf("image %q: the image cache has no directory", r.String())
	}
	if p, ok := c.Lookup(r); ok {
		return c.use(r, p)
	}
	if err := c.canPull(r); err != nil {
		return Image{}, c.notPulled(r, err)
	}
	return c.pull(ctx, r)
}

// canPull says why r cannot be pulled, if it cannot.
func (c *Cache) canPull(r Ref) error {
	switch {
	case r.PullURI() == "":
		return errors.New("its DockerRequirement has no dockerPull to fetch it from")
	case c.Offline:
		return errors.New("pulling is turned off (offline)")
	case c.Puller == nil:
		return errors.New("no container runtime is available to pull it")
	}
	return nil
}

func (c *Cache) notPulled(r Ref, cause error) error {
	return fmt.Errorf("image %q is not in the cache %s and cannot be pulled: %w", r.String(), c.dir(), cause)
}

// use validates an image found on disk and records that it was used.
func (c *Cache) use(r Ref, path string) (Image, error) {
	img, err := c.inspect(r, path)
	if err != nil {
		return Image{}, fmt.Errorf("image %q in the cache cannot be used; remove %s to pull it again: %w", r.String(), path, err)
	}
	c.touch(path)
	return img, nil
}

// inspect is Inspect, remembered per path while the file keeps its size
// and modification time: hashing a multi-gigabyte image for every step
// of a scatter would cost more than running many of them.
func (c *Cache) inspect(r Ref, path string) (Image, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Image{}, fmt.Errorf("image %q: %w", r.String(), err)
	}
	c.mu.Lock()
	s, ok := c.seen[path]
	c.mu.Unlock()
	if !ok || s.size != st.Size() || !s.mtime.Equal(st.ModTime()) {
		if s.img, err = Inspect(path); err != nil {
			return Image{}, err
		}
		c.remember(path, st, s.img)
	}
	img := s.img
	img.Name = r.String()
	return img, nil
}

func (c *Cache) remember(path string, st os.FileInfo, img Image) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]seenImage{}
	}
	c.seen[path] = seenImage{size: st.Size(), mtime: st.ModTime(), img: img}
}

// usedSuffix names the sidecar whose modification time records when an
// image was last used: "<image file>.used". A sidecar, not the image's
// own atime, because many file systems do not keep atime and changing
// times on a file in a shared cache needs its owner.
const usedSuffix = ".used"

// touch records a use of the image at path. It is best effort: a
// read-only cache still serves its images.
func (c *Cache) touch(path string) {
	used := path + usedSuffix
	now := time.Now()
	err := os.Chtimes(used, now, now)
	if errors.Is(err, os.ErrNotExist) {
		var f *os.File
		if f, err = os.OpenFile(used, os.O_WRONLY|os.O_CREATE, 0o666); err == nil {
			err = f.Close()
		}
	}
	if err != nil {
		c.Log.Debug().Err(err).Str("image", path).Msg("cannot record the image's use")
	}
}

// isBookkeeping reports whether a cache file is ours rather than an
// image: locks, use records and pulls in progress.
func isBookkeeping(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, lockSuffix) || strings.HasSuffix(name, usedSuffix)
}
