package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// localBackend serves file:// URLs: the same interface over local files,
// so that the conformance suite can hold the remote backends to it.
type localBackend struct{}

func localErr(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		return ErrForbidden
	}
	return err
}

func (localBackend) Stat(ctx context.Context, u *url.URL) (Info, error) {
	st, err := os.Stat(u.Path)
	if err != nil {
		return Info{}, localErr(err)
	}
	if st.IsDir() {
		return Info{}, fmt.Errorf("%s is a directory", u.Path)
	}
	return Info{Size: st.Size(), ModTime: st.ModTime(), Ranges: true}, nil
}

func (localBackend) Open(ctx context.Context, u *url.URL, offset, length int64) (io.ReadCloser, error) {
	f, err := os.Open(u.Path)
	if err != nil {
		return nil, localErr(err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if length < 0 {
		return f, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, length), f}, nil
}

func (localBackend) List(ctx context.Context, u *url.URL) ([]Info, error) {
	var infos []Info
	err := filepath.WalkDir(u.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(u.Path, p)
		infos = append(infos, Info{Name: filepath.ToSlash(rel), Size: st.Size(), ModTime: st.ModTime(), Ranges: true})
		return nil
	})
	if err != nil {
		return nil, localErr(err)
	}
	return infos, nil
}

func (localBackend) Put(ctx context.Context, u *url.URL, path string, meta PutMeta) error {
	if err := os.MkdirAll(filepath.Dir(u.Path), 0o755); err != nil {
		return localErr(err)
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := u.Path + ".part"
	dst, err := os.Create(tmp)
	if err != nil {
		return localErr(err)
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, u.Path)
}
