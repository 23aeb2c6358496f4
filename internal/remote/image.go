package remote

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

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
		// Other flow processes may want the same image at once: one
		// uploads, under a lock on the cluster, the others wait for it.
		there := func() bool {
			rfi, err := c.Stat(ctx, target)
			return err == nil && rfi.Size() == fi.Size()
		}
		unlock, err := c.lockRemote(ctx, target+".lock", there)
		if err != nil || unlock == nil {
			return err // nil: another process put it there meanwhile
		}
		defer unlock()
		if there() { // put there between the first look and the lock
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

// lockStale is how old a lock directory must be to be taken for the
// leftover of a process that died holding it.
const lockStale = 10 * time.Minute

// lockScript takes the lock directory (mkdir is atomic) and prints "taken",
// or prints "busy"; a lock older than lockStale is removed first.
const lockScript = `l=%s
mkdir -p -- "$(dirname -- "$l")"
if [ -d "$l" ] && [ -n "$(find "$l" -maxdepth 0 -mmin +%d 2>/dev/null)" ]; then rm -rf -- "$l"; fi
if mkdir -- "$l" 2>/dev/null; then echo taken; else echo busy; fi
`

// lockRemote takes a lock on the cluster shared by every process that
// uses the same lock path. While another holds it, it waits, asking
// done() between tries: when done() says the work is done, it returns a
// nil unlock. The wait ends with ctx.
func (c *Client) lockRemote(ctx context.Context, lock string, done func() bool) (unlock func(), err error) {
	script := fmt.Sprintf(lockScript, shell.Quote(lock), int(lockStale.Minutes()))
	delay := 200 * time.Millisecond
	for {
		out, err := c.Run(ctx, script)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(string(out)) == "taken" {
			return func() {
				_, _ = c.Run(context.WithoutCancel(ctx), "rm -rf -- "+shell.Quote(lock)+"\n")
			}, nil
		}
		if done() {
			return nil, nil
		}
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
		delay = min(2*delay, 5*time.Second)
	}
}
