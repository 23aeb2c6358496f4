package storage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// httpBackend serves http:// and https:// URLs with net/http. Servers
// are trusted through the system's CAs (SSL_CERT_FILE, SSL_CERT_DIR) and
// the configured ca_file, never by skipping verification.
type httpBackend struct {
	client *http.Client
}

// newHTTPClient is the client for HTTPS servers and the S3 SDK alike:
// the system's CAs plus caFile; timeouts for connecting and for the first
// byte of an answer, but none for a whole body, which may be large.
func newHTTPClient(caFile string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("https ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("https ca_file %s holds no PEM certificate", caFile)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 60 * time.Second
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: tr}, nil
}

func (b *httpBackend) Stat(ctx context.Context, u *url.URL) (Info, error) {
	resp, err := b.do(ctx, http.MethodHead, u, "")
	if err != nil {
		return Info{}, err
	}
	resp.Body.Close()
	info := Info{Size: resp.ContentLength, Ranges: resp.Header.Get("Accept-Ranges") == "bytes"}
	if info.Size < 0 && info.Ranges {
		// No length in the HEAD answer, but ranges: a one-byte range's
		// Content-Range says it ("bytes 0-0/SIZE"). Without either, the
		// object is fetched whole, its size unknown until the end.
		if resp, err = b.do(ctx, http.MethodGet, u, "bytes=0-0"); err != nil {
			return Info{}, err
		}
		resp.Body.Close()
		info.Size = resp.ContentLength // a server that ignores ranges
		if resp.StatusCode == http.StatusPartialContent {
			_, total, _ := strings.Cut(resp.Header.Get("Content-Range"), "/")
			if n, err := strconv.ParseInt(total, 10, 64); err == nil {
				info.Size, info.Ranges = n, true
			}
		}
	}
	info.ETag = resp.Header.Get("ETag") // the last answer's, as is Last-Modified
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		info.ModTime = t
	}
	return info, nil
}

func (b *httpBackend) Open(ctx context.Context, u *url.URL, offset, length int64) (io.ReadCloser, error) {
	resp, err := b.do(ctx, http.MethodGet, u, rangeHeader(offset, length))
	if err != nil {
		return nil, err
	}
	if offset > 0 && resp.StatusCode != http.StatusPartialContent {
		resp.Body.Close()
		return nil, fmt.Errorf("the server does not serve byte ranges (status %s)", resp.Status)
	}
	return resp.Body, nil
}

// List is not something HTTP can do: a Directory input needs S3.
func (b *httpBackend) List(ctx context.Context, u *url.URL) ([]Info, error) {
	return nil, errors.New("an HTTP server cannot list a directory; give its files one by one, or use S3")
}

func (b *httpBackend) Put(ctx context.Context, u *url.URL, p string, meta PutMeta) error {
	return fmt.Errorf("outputs cannot go to %s://: use an s3:// --outdir", u.Scheme)
}

// do sends one request, retrying a few times when the server cannot be
// reached or answers 5xx, and turns failures into the package's errors.
func (b *httpBackend) do(ctx context.Context, method string, u *url.URL, rng string) (*http.Response, error) {
	var last error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 250 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
		if err != nil {
			return nil, err
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = fmt.Errorf("%w: %v", ErrUnreachable, netCause(err))
			var ue *url.Error
			if errors.As(err, &ue) && isTLSError(ue.Err) {
				return nil, last // retrying will not fix a certificate
			}
			continue
		}
		switch {
		case resp.StatusCode < 300:
			return resp, nil
		case resp.StatusCode >= 500:
			resp.Body.Close()
			last = fmt.Errorf("the server failed: %s", resp.Status)
			continue
		}
		resp.Body.Close()
		return nil, statusError(resp)
	}
	return nil, last
}

func statusError(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusGone:
		return ErrNotFound
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrForbidden
	}
	return fmt.Errorf("the server answered %s", resp.Status)
}

// netCause is a network error without the URL net/http repeats in it.
func netCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isTLSError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var inv x509.CertificateInvalidError
	var verr *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &inv) || errors.As(err, &verr)
}

// baseName is the last element of a URL's path: a File's basename.
func baseName(u *url.URL) string {
	b := path.Base(strings.TrimSuffix(u.Path, "/"))
	if b == "/" || b == "." || b == "" {
		return u.Host
	}
	return b
}
