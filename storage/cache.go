package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Cache is the download cache: remote objects stored once by content.
//
//	objects/ab/ab12…            the bytes, named by their SHA-1
//	named/ab12…/BASENAME        a hard link with the object's name, for jobs
//	index/<sha256 of URL+version>  "sha1 size" of what that URL held
//	dirs/<key>/BASENAME/...     a listed prefix, hard links into named/
//	tmp/                        downloads in progress
type Cache struct {
	Dir    string
	Stores *Stores
	// PartSize and Parts: objects larger than one part are fetched as
	// ranges of PartSize bytes, Parts at a time.
	PartSize int64
	Parts    int
	// Progress, if set, is told how a download goes: at its start, about
	// once a second, and at its end if it succeeded.
	Progress func(Transfer)

	downloads atomic.Int64 // objects fetched (not found in the cache)
}

// Transfer is the state of one download or upload.
type Transfer struct {
	URL   string // redacted
	Done  int64
	Total int64
	Ended bool
}

// Downloads is how many objects this cache fetched from their servers.
func (c *Cache) Downloads() int64 { return c.downloads.Load() }

const (
	defaultPartSize = 32 << 20
	defaultParts    = 8
	rangeRetries    = 3
)

// FetchFile makes the object at raw a local file named like it, fetching
// it unless the cache holds the same version, and returns its path.
func (c *Cache) FetchFile(ctx context.Context, raw string) (string, error) {
	b, u, err := c.Stores.For(raw)
	if err != nil {
		return "", err
	}
	info, err := b.Stat(ctx, u)
	if err != nil {
		return "", err
	}
	sum, err := c.fetch(ctx, b, u, info)
	if err != nil {
		return "", err
	}
	return c.named(sum, baseName(u))
}

// FetchDir makes the prefix raw (s3://bucket/prefix/) a local directory
// of its objects, each fetched as FetchFile would, and returns its path.
func (c *Cache) FetchDir(ctx context.Context, raw string) (string, error) {
	b, u, err := c.Stores.For(raw)
	if err != nil {
		return "", err
	}
	infos, err := b.List(ctx, u)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintln(h, indexURL(u))
	sums := make([]string, len(infos))
	for i, info := range infos {
		if err := safeRel(info.Name); err != nil {
			return "", fmt.Errorf("object %s: %w", info.Name, err)
		}
		child := *u
		child.Path = strings.TrimSuffix(u.Path, "/") + "/" + info.Name
		if sums[i], err = c.fetch(ctx, b, &child, info); err != nil {
			return "", fmt.Errorf("%s: %w", info.Name, err)
		}
		fmt.Fprintln(h, info.Name, sums[i])
	}
	dir := filepath.Join(c.Dir, "dirs", hex.EncodeToString(h.Sum(nil))[:32], baseName(u))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(c.mkdir("tmp"), "dir-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for i, info := range infos {
		dst := filepath.Join(tmp, filepath.FromSlash(info.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.Link(c.object(sums[i]), dst); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) && !isNotEmpty(err) {
		return "", err
	}
	return dir, nil
}

// fetch returns the SHA-1 of the object at u, whose state is info,
// downloading it only if the index has no entry for this version.
func (c *Cache) fetch(ctx context.Context, b Backend, u *url.URL, info Info) (string, error) {
	idx := filepath.Join(c.mkdir("index"), indexKey(u, info))
	if sum, ok := c.lookup(idx); ok {
		return sum, nil
	}
	c.downloads.Add(1)
	sum, tmp, err := c.download(ctx, b, u, info)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	st, err := os.Stat(tmp)
	if err != nil {
		return "", err
	}
	if info.SHA1 != "" && info.SHA1 != sum {
		return "", fmt.Errorf("the object's content has SHA-1 %s, but it was stored with %s", sum, info.SHA1)
	}
	obj := c.object(sum)
	if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o444); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, obj); err != nil {
		return "", err
	}
	return sum, writeFileAtomic(idx, fmt.Sprintf("%s %d\n", sum, st.Size()))
}

// lookup reads an index entry and checks its object is still there,
// whole. (Its content was checked when it was downloaded, and objects
// are read-only.)
func (c *Cache) lookup(idx string) (string, bool) {
	data, err := os.ReadFile(idx)
	if err != nil {
		return "", false
	}
	f := strings.Fields(string(data))
	if len(f) != 2 || len(f[0]) != 40 {
		return "", false
	}
	size, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return "", false
	}
	st, err := os.Stat(c.object(f[0]))
	if err != nil || st.Size() != size {
		return "", false
	}
	return f[0], true
}

func (c *Cache) object(sum string) string {
	return filepath.Join(c.Dir, "objects", sum[:2], sum)
}

// named is a hard link to object sum under the name base.
func (c *Cache) named(sum, base string) (string, error) {
	dir := filepath.Join(c.Dir, "named", sum)
	p := filepath.Join(dir, base)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.Link(c.object(sum), p); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	return p, nil
}

func (c *Cache) mkdir(name string) string {
	d := filepath.Join(c.Dir, name)
	os.MkdirAll(d, 0o755)
	return d
}

// indexURL is the URL as the index knows it: without user information.
func indexURL(u *url.URL) string {
	v := *u
	v.User = nil
	return v.String()
}

func indexKey(u *url.URL, info Info) string {
	h := sha256.Sum256([]byte(indexURL(u) + "\n" + info.Version()))
	return hex.EncodeToString(h[:])
}

// download writes the object into a temporary file, in parallel ranges
// when it is large and the server serves ranges, and hashes it in order
// as the ranges complete. It returns the hex SHA-1 and the file.
func (c *Cache) download(ctx context.Context, b Backend, u *url.URL, info Info) (string, string, error) {
	f, err := os.CreateTemp(c.mkdir("tmp"), "get-")
	if err != nil {
		return "", "", err
	}
	ok := false
	defer func() {
		f.Close()
		if !ok {
			os.Remove(f.Name())
		}
	}()
	if !info.Ranges || info.Size < 0 {
		sum, err := c.downloadWhole(ctx, b, u, info, f)
		ok = err == nil
		return sum, f.Name(), err
	}
	partSize, parts := c.PartSize, c.Parts
	if partSize <= 0 {
		partSize = defaultPartSize
	}
	if parts <= 0 {
		parts = defaultParts
	}
	if info.Size <= partSize {
		partSize = max(info.Size, 1)
	}
	n := int((info.Size + partSize - 1) / partSize)
	if info.Size > 0 {
		if err := f.Truncate(info.Size); err != nil {
			return "", "", err
		}
	}
	prog := c.progress(Redact(u), info.Size)
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	g, gctx := errgroup.WithContext(ctx)
	var sum string
	g.Go(func() (err error) { sum, err = hashInOrder(gctx, f, done, partSize, info); return })
	g.Go(func() error {
		fg, fctx := errgroup.WithContext(gctx)
		fg.SetLimit(parts)
		for i := range n {
			off := int64(i) * partSize
			length := min(partSize, info.Size-off)
			fg.Go(func() error {
				if err := fetchRange(fctx, b, u, f, off, length, prog); err != nil {
					return err
				}
				close(done[i])
				return nil
			})
		}
		return fg.Wait()
	})
	if err = g.Wait(); err != nil {
		return "", "", err
	}
	prog.end()
	ok = true
	return sum, f.Name(), nil
}

// downloadWhole streams the object into f in one request, hashing it on
// the way: for servers that serve no ranges or do not say the size.
func (c *Cache) downloadWhole(ctx context.Context, b Backend, u *url.URL, info Info, f *os.File) (string, error) {
	prog := c.progress(Redact(u), info.Size)
	body, err := b.Open(ctx, u, 0, -1)
	if err != nil {
		return "", err
	}
	defer body.Close()
	d := newDigests(info)
	n, err := io.Copy(io.MultiWriter(f, d.writer()), prog.counting(ctx, body))
	switch {
	case err != nil:
		return "", fmt.Errorf("the connection was cut after %d bytes (%v)", n, err)
	case info.Size >= 0 && n != info.Size:
		return "", fmt.Errorf("the server sent %d bytes of %d", n, info.Size)
	}
	sum, err := d.check()
	if err == nil {
		prog.end()
	}
	return sum, err
}

// fetchRange copies length bytes at off of the object into f at off. A
// body cut short, or silent for stallTimeout, is asked again from where
// it stopped, a few times.
func fetchRange(ctx context.Context, b Backend, u *url.URL, f *os.File, off, length int64, prog *progress) error {
	got := int64(0)
	var last error
	for attempt := 0; attempt <= rangeRetries; attempt++ {
		n, err := copyRange(ctx, b, u, io.NewOffsetWriter(f, off+got), off+got, length-got, prog)
		got += n
		if err == nil && got == length {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) {
			return err
		}
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		last = err
	}
	return fmt.Errorf("the connection was cut %d times while reading bytes %d to %d (last: %v)",
		rangeRetries+1, off, off+length, last)
}

// stallTimeout is how long a body may send nothing before its request
// is given up and asked again.
var stallTimeout = time.Minute

var errStalled = errors.New("the server stopped sending")

// copyRange makes one request for the range and copies its body to w.
func copyRange(ctx context.Context, b Backend, u *url.URL, w io.Writer, off, length int64, prog *progress) (int64, error) {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer timer.Stop()
	body, err := b.Open(rctx, u, off, length)
	if err != nil {
		return 0, causeOf(rctx, err)
	}
	defer body.Close()
	n, err := io.Copy(w, prog.counting(ctx, readerFunc(func(p []byte) (int, error) {
		timer.Reset(stallTimeout)
		return body.Read(p)
	})))
	return n, causeOf(rctx, err)
}

// causeOf is err, or why rctx was cancelled if it was (a stall).
func causeOf(rctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(rctx), errStalled) {
		return errStalled
	}
	return err
}

// hashInOrder hashes f part by part, each as soon as it is written, and
// checks it against the server's CRC if there is one. The SHA-1 and the
// CRC read the parts each on their own, so that they can use two cores.
func hashInOrder(ctx context.Context, f *os.File, done []chan struct{}, partSize int64, info Info) (string, error) {
	d := newDigests(info)
	pass := func(w io.Writer) error {
		buf := make([]byte, 1<<20)
		for i, ch := range done {
			select {
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
			off := int64(i) * partSize
			if _, err := io.CopyBuffer(w, io.NewSectionReader(f, off, min(partSize, info.Size-off)), buf); err != nil {
				return err
			}
		}
		return nil
	}
	var g errgroup.Group
	g.Go(func() error { return pass(d.sha1) })
	if d.crc != nil {
		g.Go(func() error { return pass(d.crc) })
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	return d.check()
}

// progress counts the bytes of one transfer and tells Cache.Progress
// about once a second.
type progress struct {
	fn    func(Transfer)
	url   string
	total int64
	done  atomic.Int64
	mu    sync.Mutex
	last  time.Time
}

func (c *Cache) progress(url string, total int64) *progress {
	p := &progress{fn: c.Progress, url: url, total: total, last: time.Now()}
	if p.fn != nil {
		p.fn(Transfer{URL: url, Total: total})
	}
	return p
}

func (p *progress) add(n int64) {
	d := p.done.Add(n)
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) >= time.Second {
		p.last = time.Now()
		p.fn(Transfer{URL: p.url, Done: d, Total: p.total})
	}
}

func (p *progress) end() {
	if p.fn != nil {
		p.fn(Transfer{URL: p.url, Done: p.done.Load(), Total: p.total, Ended: true})
	}
}

// counting wraps r so that what it reads is counted, and stops at ctx's
// end.
func (p *progress) counting(ctx context.Context, r io.Reader) io.Reader {
	return readerFunc(func(b []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := r.Read(b)
		p.add(int64(n))
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// safeRel refuses an object name that would lead out of its directory.
func safeRel(name string) error {
	clean := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) || clean == "." {
		return fmt.Errorf("its name leads out of the directory")
	}
	return nil
}

func isNotEmpty(err error) bool {
	return err != nil && strings.Contains(err.Error(), "directory not empty")
}

// writeFileAtomic writes data to path under a temporary name, then
// renames it, so that a reader sees all of it or nothing.
func writeFileAtomic(path, data string) error {
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
