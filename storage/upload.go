package storage

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// uploader puts files under root as objects under base, keeping their
// paths relative to root.
type uploader struct {
	b        Backend
	base     *url.URL
	root     string
	progress func(Transfer)
	sent     int
}

// Upload puts the outputs, which the engine moved into the local
// directory root, under the prefix dest (s3://bucket/prefix/), and
// rewrites their locations to the objects' URLs. An object already there
// with the same SHA-1 is not sent again, so uploading after a failure
// sends only what is missing. It returns how many files it sent.
func (s *Stores) Upload(ctx context.Context, out map[string]any, root, dest string, progress func(Transfer)) (int, error) {
	b, base, err := s.For(dest)
	if err != nil {
		return 0, err
	}
	up := &uploader{b: b, base: base, root: root, progress: progress}
	err = walk(out, func(m map[string]any) error {
		local := localOf(m)
		if local == "" {
			return nil
		}
		u, err := up.url(local)
		if err != nil {
			return err
		}
		if m["class"] == "File" {
			sum, _ := m["checksum"].(string)
			err = up.put(ctx, local, u, strings.TrimPrefix(sum, "sha1$"))
		} else {
			err = up.putTree(ctx, local)
			u.Path = strings.TrimSuffix(u.Path, "/") + "/"
		}
		if err != nil {
			return err
		}
		m["location"] = u.String()
		delete(m, "path")
		return nil
	})
	return up.sent, err
}

// url is the object URL for the local file or directory p.
func (up *uploader) url(p string) (*url.URL, error) {
	rel, err := filepath.Rel(up.root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("output %s is not in %s", p, up.root)
	}
	u := *up.base
	u.Path = strings.TrimSuffix(up.base.Path, "/") + "/" + filepath.ToSlash(rel)
	return &u, nil
}

// putTree uploads every regular file under dir.
func (up *uploader) putTree(ctx context.Context, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		u, err := up.url(p)
		if err != nil {
			return err
		}
		return up.put(ctx, p, u, "")
	})
}

// put uploads local as u unless u already holds the same content, then
// checks what the server holds. sum is local's hex SHA-1, "" if unknown.
func (up *uploader) put(ctx context.Context, local string, u *url.URL, sum string) error {
	st, err := os.Stat(local)
	if err != nil {
		return err
	}
	if sum == "" {
		if sum, err = sha1File(ctx, local); err != nil {
			return err
		}
	}
	rel, _ := filepath.Rel(up.root, local)
	fail := func(err error) error {
		return fmt.Errorf("uploading %s to %s: %w", rel, Redact(u), err)
	}
	if info, err := up.b.Stat(ctx, u); err == nil && info.SHA1 == sum && info.Size == st.Size() {
		return nil // sent before
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return fail(err)
	}
	if up.progress != nil {
		up.progress(Transfer{URL: Redact(u), Total: st.Size()})
	}
	if err := up.b.Put(ctx, u, local, PutMeta{SHA1: sum, Size: st.Size()}); err != nil {
		return fail(err)
	}
	up.sent++
	if up.progress != nil {
		up.progress(Transfer{URL: Redact(u), Done: st.Size(), Total: st.Size(), Ended: true})
	}
	info, err := up.b.Stat(ctx, u)
	if err != nil {
		return fail(fmt.Errorf("checking the upload: %w", err))
	}
	if info.Size != st.Size() || (info.SHA1 != "" && info.SHA1 != sum) {
		return fail(fmt.Errorf("the server holds %d bytes (SHA-1 %s), not the %d sent (SHA-1 %s)", info.Size, info.SHA1, st.Size(), sum))
	}
	return nil
}

// localOf is the local path of a File or Directory object, "" if none.
func localOf(m map[string]any) string {
	if p, ok := m["path"].(string); ok && p != "" {
		return p
	}
	loc, _ := m["location"].(string)
	if u, err := url.Parse(loc); err == nil && u.Scheme == "file" {
		return u.Path
	}
	return ""
}

// sha1File is the hex SHA-1 of the file at p.
func sha1File(ctx context.Context, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.Copy(h, readerFunc(func(b []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return f.Read(b)
	})); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
