package remote

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/pkg/sftp"

	"github.com/flow-cwl/flow/internal/shell"
)

// StageImage makes the local container image available on the cluster as
// remoteDir/sha256/<hex>.sif, hex being its SHA-256, and returns that
// path. An image already there is not sent again, by this run or any
// other. An upload goes to <hex>.sif.partial and, when an earlier one was
// interrupted, continues from where it stopped; the whole file is checked
// against the digest on the cluster before it is renamed into place, so
// the name is only ever taken by a complete, verified image.
func (c *Client) StageImage(ctx context.Context, local, remoteDir string) (string, error) {
	fi, err := os.Stat(local)
	if err != nil {
		return "", fmt.Errorf("cannot stage the image %s: %w", local, err)
	}
	sum, err := c.digests.sum(ctx, local, fi)
	if err != nil {
		return "", fmt.Errorf("cannot stage the image %s: %w", local, err)
	}
	target := path.Join(remoteDir, "sha256", sum+".sif")
	err = c.flights.do(ctx, target, func() error {
		if rfi, err := c.Stat(ctx, target); err == nil && rfi.Size() == fi.Size() {
			return nil
		}
		partial := target + ".partial"
		sent, err := c.resumeUpload(ctx, local, partial, fi.Size())
		if err != nil {
			return err
		}
		out, err := c.Run(ctx, "sha256sum -- "+shell.Quote(partial)+"\n")
		if err != nil {
			return err
		}
		if got, _, _ := strings.Cut(string(out), " "); got != sum {
			_, _ = c.Run(ctx, "rm -f -- "+shell.Quote(partial)+"\n")
			return fmt.Errorf("the copy on %s arrived damaged (sha256 %s, want %s) and was removed; the next try sends it again", c.addr, got, sum)
		}
		if _, err := c.Run(ctx, "chmod a-w -- "+shell.Quote(partial)+" && mv -f -- "+shell.Quote(partial)+" "+shell.Quote(target)+"\n"); err != nil {
			return err
		}
		c.images.Add(1)
		c.imageBytes.Add(sent)
		c.log.Info().Str("image", local).Str("remote", target).Int64("bytes_sent", sent).Msg("image uploaded")
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("cannot stage the image %s on %s: %w", local, c.addr, err)
	}
	return target, nil
}

// resumeUpload appends to the remote file what it lacks of the local one
// of the given size, and returns how many bytes it sent. A remote file
// longer than the local one is not a prefix of it and starts over.
func (c *Client) resumeUpload(ctx context.Context, local, remote string, size int64) (int64, error) {
	src, err := os.Open(local)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	var sent int64
	err = c.withSFTP(ctx, func(sc *sftp.Client) error {
		if err := sc.MkdirAll(path.Dir(remote)); err != nil {
			return err
		}
		dst, err := sc.OpenFile(remote, os.O_WRONLY|os.O_CREATE)
		if err != nil {
			return err
		}
		defer dst.Close()
		fi, err := dst.Stat()
		if err != nil {
			return err
		}
		from := fi.Size()
		if from > size {
			if err := dst.Truncate(0); err != nil {
				return err
			}
			from = 0
		}
		if from > 0 {
			c.log.Info().Str("remote", remote).Int64("from", from).Int64("size", size).Msg("continuing an interrupted image upload")
		}
		if _, err := src.Seek(from, io.SeekStart); err != nil {
			return err
		}
		if _, err := dst.Seek(from, io.SeekStart); err != nil {
			return err
		}
		sent, err = io.Copy(dst, &ctxReader{ctx, src})
		if err != nil {
			return err
		}
		return dst.Close()
	})
	return sent, err
}
