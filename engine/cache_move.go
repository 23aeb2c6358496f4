package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/flow-cwl/flow/internal/digest"
)

// A job whose outputs are all small (a scatter's one-line results) gives
// its whole output directory to the cache, by one rename, rather than a
// copy of it: each copy is a new inode, and making inodes is most of what
// keeping small outputs costs (on ext4 after many deletions, half a
// millisecond each). Its files are hashed by one read each before they
// move. The run then uses them from the cache, as it uses a hit's, and
// copies (or clones) them into --outdir at the end, so the cache still
// shares no inode with a delivered file. A job with a big file is copied
// into the cache instead (keep): hashing it while it is copied reads it
// once, where moving it would read it once to hash it and again to
// deliver it.

// smallOutputs hashes the files under dir when every one of them is
// small (under digest.SmallFile) and the tree holds nothing but
// directories, regular files and symbolic links; ok is false otherwise,
// after reading no file. sums are by path, as keep reports them.
func smallOutputs(ctx context.Context, dir string) (sums map[string]sized, ok bool, err error) {
	var files []string
	if ok, err := listSmall(dir, &files); !ok || err != nil {
		return nil, false, err
	}
	sums = make(map[string]sized, len(files))
	for _, p := range files {
		sum, n, err := digest.File(ctx, p)
		if err != nil {
			return nil, false, err
		}
		sums[p] = sized{sum, n}
	}
	return sums, true, nil
}

// listSmall adds the regular files under dir to files, and reports
// whether the tree can move to the cache as it is (see smallOutputs).
func listSmall(dir string, files *[]string) (bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		switch t := e.Type(); {
		case t&os.ModeSymlink != 0:
		case t.IsDir():
			if ok, err := listSmall(p, files); !ok || err != nil {
				return false, err
			}
		case t.IsRegular():
			st, err := e.Info()
			if err != nil {
				return false, err
			}
			if st.Size() >= digest.SmallFile {
				return false, nil
			}
			*files = append(*files, p)
		default: // a FIFO or socket, which keep leaves out
			return false, nil
		}
	}
	return true, nil
}

// errCannotMove says the file system cannot move a job's directory into
// the cache (another file system, or no RENAME_NOREPLACE): keep copies it.
var errCannotMove = errors.New("cannot move into the cache")

// moveInto renames the job's output directory outdir to the entry dir,
// never over an entry that exists (errEntryTaken), even one another flow
// process made empty a moment ago.
func moveInto(outdir, dir string) error {
	err := renameNoReplace(outdir, dir)
	if errors.Is(err, os.ErrNotExist) { // the first entry under its prefix
		if err = os.MkdirAll(filepath.Dir(dir), 0o755); err == nil {
			err = renameNoReplace(outdir, dir)
		}
	}
	switch {
	case errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY):
		return errEntryTaken
	case errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
		return errCannotMove
	}
	return err
}

func renameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
