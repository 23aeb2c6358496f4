package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"syscall"

	"github.com/flow-cwl/flow/server/store"
)

// maxFieldBytes bounds what one request may make the daemon hold in
// memory: all the non-file fields of a submission together (names and
// values), or a JSON body. Attachments go to disk as they arrive and
// count only against the body limit.
const maxFieldBytes = 1 << 20

// retryAfter is the Retry-After of a full queue, in seconds.
const retryAfter = "60"

// errTooLarge marks a request larger than the daemon accepts (413).
var errTooLarge = errors.New("the request is larger than the daemon accepts")

// errQueueFull refuses a submission of a team whose queue is full.
var errQueueFull = store.ErrQueueFull

// submitStatus is the HTTP status a failed submission answers, and the
// message: 4xx only for what the client can fix, 5xx when the daemon
// failed (507 when its disk is full, which is no fault of the request).
func submitStatus(err error) (int, string) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is larger than the daemon accepts (%d bytes)", tooBig.Limit)
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, errQueueFull):
		return http.StatusTooManyRequests, err.Error()
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return http.StatusInsufficientStorage, "the daemon has no room left to store the submission; try again later"
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, store.ErrRunActive), errors.Is(err, store.ErrExists):
		return http.StatusConflict, err.Error()
	}
	return http.StatusInternalServerError, err.Error()
}

// writeSubmitError answers a failed submission in flow's API.
func writeSubmitError(w http.ResponseWriter, err error) {
	status, msg := submitStatus(err)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeError(w, status, msg)
}

// fieldBudget is what is left of a request's maxFieldBytes.
type fieldBudget int64

// readField reads a form field's value, charging it and the field's name
// to the budget.
func (b *fieldBudget) readField(name string, r io.Reader) (string, error) {
	left := int64(*b) - int64(len(name))
	if left < 0 {
		return "", fmt.Errorf("%w: the form's fields are larger than %d bytes together (files go in workflow_attachment parts)", errTooLarge, maxFieldBytes)
	}
	v, err := io.ReadAll(io.LimitReader(r, left+1))
	if err != nil {
		return "", fmt.Errorf("%w: cannot read the field %q: %w", errBadRequest, name, err)
	}
	if int64(len(v)) > left {
		return "", fmt.Errorf("%w: the form's fields are larger than %d bytes together (files go in workflow_attachment parts)", errTooLarge, maxFieldBytes)
	}
	*b = fieldBudget(left - int64(len(v)))
	return string(v), nil
}

// readJSON decodes a JSON request body of at most maxFieldBytes into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFieldBytes)).Decode(v)
	var tooBig *http.MaxBytesError
	if err != nil && !errors.As(err, &tooBig) {
		err = fmt.Errorf("%w: the body must be JSON: %w", errBadRequest, err)
	}
	return err
}

// diskWriter remembers whether writing failed, so that a failed copy can
// be told apart: a read error is the client's, a write error the daemon's.
type diskWriter struct {
	f   *os.File
	err error
}

func (w *diskWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// clientPathError reports whether creating an attachment failed because
// of the names the client chose (the same file twice, a file where
// another attachment needs a directory), not because of the daemon.
func clientPathError(err error) bool {
	return errors.Is(err, os.ErrExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) ||
		errors.Is(err, syscall.ENAMETOOLONG)
}

// maxPartHeader bounds what the multipart reader may read from the body
// while it finds the next part and reads that part's headers: the
// standard library allows 10 MiB of headers per part, which it holds in
// memory several times over while parsing them. Real headers (a name, a
// file name, a content type) are well under 1 KiB.
const maxPartHeader = 64 << 10

// headerGuard is the request body as the multipart reader reads it; while
// left is not negative (finding a part and reading its headers), at most
// left more bytes.
type headerGuard struct {
	r    io.Reader
	left int64
}

func (g *headerGuard) Read(p []byte) (int, error) {
	if g.left < 0 {
		return g.r.Read(p)
	}
	if g.left == 0 {
		return 0, fmt.Errorf("%w: a form part's headers are larger than %d bytes", errTooLarge, maxPartHeader)
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.r.Read(p)
	g.left -= int64(n)
	return n, err
}

// nextPart is mr.NextPart with its reading of the body bounded by g.
func nextPart(mr *multipart.Reader, g *headerGuard) (*multipart.Part, error) {
	g.left = maxPartHeader
	defer func() { g.left = -1 }()
	return mr.NextPart()
}

// multipartReader reads r's body, a multipart/form-data submission, with
// part headers bounded.
func multipartReader(r *http.Request) (*multipart.Reader, *headerGuard, error) {
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && ct != "multipart/form-data" && ct != "multipart/mixed" {
		err = fmt.Errorf("the content type is %s", ct)
	} else if err == nil && params["boundary"] == "" {
		err = errors.New("the content type has no boundary")
	}
	if err != nil {
		return nil, nil, err
	}
	g := &headerGuard{r: r.Body, left: -1}
	return multipart.NewReader(g, params["boundary"]), g, nil
}
