package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pkg/sftp"
)

// sftpClient returns the link's SFTP client, starting the subsystem on first
// use. One SFTP client per link carries every file call.
func (c *Client) sftpClient(ctx context.Context) (*link, *sftp.Client, error) {
	l, err := c.link(ctx)
	if err != nil {
		return nil, nil, err
	}
	l.sftpMu.Lock()
	defer l.sftpMu.Unlock()
	if l.sftp == nil {
		var sc *sftp.Client
		err := c.retryRefused(ctx, func() (err error) {
			sc, err = sftp.NewClient(l.ssh, sftp.UseConcurrentWrites(true))
			return err
		})
		if err != nil {
			return nil, nil, c.classify(l, fmt.Errorf("cannot start SFTP on %s: %w", c.addr, err))
		}
		l.sftp = sc
	}
	return l, l.sftp, nil
}

// withSFTP runs fn with the SFTP client, returning early if ctx ends (the
// SFTP calls take no ctx; fn finishes in the background and its result is
// dropped).
func (c *Client) withSFTP(ctx context.Context, fn func(*sftp.Client) error) error {
	l, sc, err := c.sftpClient(ctx)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- fn(sc) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	err = c.classify(l, err)
	if looksLikeLinkError(err) && !errors.Is(err, ErrDisconnected) {
		// The link is fine but the SFTP subsystem is gone (the server's
		// sftp process died): open a new one on the next call.
		l.sftpMu.Lock()
		if l.sftp == sc {
			_ = sc.Close()
			l.sftp = nil
		}
		l.sftpMu.Unlock()
	}
	return err
}

// Upload copies the local file to the remote path, creating missing parent
// directories. It writes a temporary file beside the target and renames it
// into place, so readers on the cluster never see half a file; the local
// file's permission bits are kept.
func (c *Client) Upload(ctx context.Context, local, remote string) error {
	src, err := os.Open(local)
	if err != nil {
		return fmt.Errorf("cannot upload %s: %w", local, err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return fmt.Errorf("cannot upload %s: %w", local, err)
	}
	err = c.withSFTP(ctx, func(sc *sftp.Client) error {
		return upload(ctx, sc, &ctxReader{ctx, src}, fi.Mode().Perm(), remote)
	})
	if err != nil {
		return fmt.Errorf("cannot upload %s to %s:%s: %w", local, c.addr, remote, err)
	}
	c.uploads.Add(1)
	return nil
}

func upload(ctx context.Context, sc *sftp.Client, src io.Reader, mode os.FileMode, remote string) error {
	if err := sc.MkdirAll(path.Dir(remote)); err != nil {
		return err
	}
	tmp := path.Join(path.Dir(remote), "."+path.Base(remote)+".flow-"+randomSuffix())
	dst, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_ = dst.Close()
			_ = sc.Remove(tmp)
		}
	}()
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	if err := dst.Chmod(mode); err != nil {
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// posix-rename replaces an existing target atomically; plain SFTP
	// rename refuses to, so it is only the fallback for servers without it.
	if err := sc.PosixRename(tmp, remote); err != nil {
		if err2 := sc.Rename(tmp, remote); err2 != nil {
			return err
		}
	}
	ok = true
	return nil
}

// Download copies the remote file to the local path through a temporary
// file and a rename, keeping the remote permission bits.
func (c *Client) Download(ctx context.Context, remote, local string) error {
	tmp, err := os.CreateTemp(filepath.Dir(local), "."+filepath.Base(local)+".flow-*")
	if err != nil {
		return fmt.Errorf("cannot download %s:%s: %w", c.addr, remote, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	defer tmp.Close()
	var mode os.FileMode
	err = c.withSFTP(ctx, func(sc *sftp.Client) error {
		src, err := sc.Open(remote)
		if err != nil {
			return err
		}
		defer src.Close()
		fi, err := src.Stat()
		if err != nil {
			return err
		}
		mode = fi.Mode().Perm()
		_, err = io.Copy(&ctxWriter{ctx, tmp}, src)
		return err
	})
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), local)
	}
	if err != nil {
		return fmt.Errorf("cannot download %s:%s to %s: %w", c.addr, remote, local, err)
	}
	return nil
}

// Stat returns information about the remote file, following symlinks.
func (c *Client) Stat(ctx context.Context, remote string) (os.FileInfo, error) {
	var fi os.FileInfo
	err := c.withSFTP(ctx, func(sc *sftp.Client) (err error) {
		fi, err = sc.Stat(remote)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cannot stat %s:%s: %w", c.addr, remote, err)
	}
	return fi, nil
}

// Glob returns the remote paths matching pattern, with path.Match syntax.
// Relative patterns are relative to the login directory.
func (c *Client) Glob(ctx context.Context, pattern string) ([]string, error) {
	var matches []string
	err := c.withSFTP(ctx, func(sc *sftp.Client) (err error) {
		matches, err = sc.Glob(pattern)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cannot glob %s:%s: %w", c.addr, pattern, err)
	}
	return matches, nil
}

// ReadDir lists a remote directory, sorted by name.
func (c *Client) ReadDir(ctx context.Context, dir string) ([]os.FileInfo, error) {
	var list []os.FileInfo
	err := c.withSFTP(ctx, func(sc *sftp.Client) (err error) {
		list, err = sc.ReadDir(dir)
		slices.SortFunc(list, func(a, b os.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list %s:%s: %w", c.addr, dir, err)
	}
	return list, nil
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ctxReader and ctxWriter end a long copy when ctx ends, between chunks.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w *ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}
