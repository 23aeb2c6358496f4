package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Backend is one place data can live, addressed by URL.
type Backend interface {
	// Stat describes the object at u; ErrNotFound if there is none.
	Stat(ctx context.Context, u *url.URL) (Info, error)
	// Open reads length bytes of the object at u from offset (length < 0:
	// to its end).
	Open(ctx context.Context, u *url.URL, offset, length int64) (io.ReadCloser, error)
	// List describes every object under the prefix u (a "directory"),
	// recursively, with names relative to it.
	List(ctx context.Context, u *url.URL) ([]Info, error)
	// Put stores the local file at path as the object u.
	Put(ctx context.Context, u *url.URL, path string, meta PutMeta) error
}

// Info describes one object.
type Info struct {
	Name    string    // relative to the listed prefix (List only)
	Size    int64     //
	ETag    string    // the server's version tag, if it gives one
	ModTime time.Time // Last-Modified, if the server gives it
	SHA1    string    // hex SHA-1 of the whole object, if the server knows it
	// Or its CRC, base64, as S3 gives them.
	CRC64NVME, CRC32, CRC32C string
	Ranges                   bool // the server can serve byte ranges
}

// Version is what tells one state of an object from another, for the
// download cache's index: the ETag where there is one, else the time it
// was modified, with the size either way.
func (i Info) Version() string {
	v := i.ETag
	if v == "" && !i.ModTime.IsZero() {
		v = i.ModTime.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%s size=%d", v, i.Size)
}

// PutMeta is what Put records with an object.
type PutMeta struct {
	SHA1 string // hex; the backend has the server verify it where it can
	Size int64
}

// What went wrong, for callers and messages: every backend error wraps
// one of these.
var (
	ErrNotFound    = errors.New("not found")
	ErrForbidden   = errors.New("forbidden")
	ErrUnreachable = errors.New("unreachable")
)

// Remote reports whether loc is a URL that a remote backend serves.
func Remote(loc string) bool {
	for _, p := range []string{"s3://", "http://", "https://"} {
		if strings.HasPrefix(loc, p) {
			return true
		}
	}
	return false
}

// Redact is u as it may be shown: without user information or a query
// (which may hold a presigned URL's signature).
func Redact(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	return c.String()
}
