// Package client talks to a flowd daemon's native API (/api/v1): submit a
// workflow with its files, follow it over Server-Sent Events, fetch its
// outputs, list and cancel runs. It shares only the wire types of package
// api with the daemon.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/flow-cwl/flow/api"
)

// Client is one daemon, reached with one token.
type Client struct {
	base  string // e.g. "https://flowd:8080", no trailing slash
	token string
	http  *http.Client
}

// New returns a client of the daemon at baseURL.
func New(baseURL, token string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the daemon's address %q is not an http(s) URL", baseURL)
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: &http.Client{}}, nil
}

// StatusError is an error answer of the daemon.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("the daemon answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// do sends a request and decodes a JSON answer into out (unless nil).
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	resp, err := c.send(ctx, method, path, body, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("the daemon's answer to %s %s is not what the API says: %w", method, path, err)
	}
	return nil
}

// send sends a request and returns a successful response; an error status
// becomes a *StatusError.
func (c *Client) send(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the daemon at %s: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var e api.Error
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return nil, &StatusError{Status: resp.StatusCode, Message: e.Message}
	}
	return resp, nil
}

// JSON sends a request with a JSON body (or none) and decodes the JSON
// answer into out (unless nil): for the API's smaller endpoints.
func (c *Client) JSON(ctx context.Context, method, path string, body []byte, out any) error {
	var r io.Reader
	ctype := ""
	if body != nil {
		r, ctype = bytes.NewReader(body), "application/json"
	}
	return c.do(ctx, method, path, r, ctype, out)
}

// Copy copies the answer to a GET of path (a log, say) to w.
func (c *Client) Copy(ctx context.Context, path string, w io.Writer) error {
	resp, err := c.send(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// Submit sends the bundle as a new run; cluster "" runs it on the
// daemon's own machine.
func (c *Client) Submit(ctx context.Context, b *Bundle, cluster string, tags map[string]string) (string, error) {
	body, ctype, err := multipartBody(b, cluster, tags)
	if err != nil {
		return "", err
	}
	var out api.Submitted
	if err := c.do(ctx, http.MethodPost, "/api/v1/runs", body, ctype, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// multipartBody writes the submission in WES's form. Files are read here
// in full; a streaming body would hide read errors in the transport.
func multipartBody(b *Bundle, cluster string, tags map[string]string) (io.Reader, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	params, err := json.Marshal(b.Inputs)
	if err != nil {
		return nil, "", err
	}
	fields := [][2]string{{api.FieldParams, string(params)}, {api.FieldType, "CWL"}, {api.FieldTypeVersion, "v1.2"}, {api.FieldURL, b.Workflow}}
	if len(tags) > 0 {
		t, _ := json.Marshal(tags)
		fields = append(fields, [2]string{api.FieldTags, string(t)})
	}
	if cluster != "" {
		e, _ := json.Marshal(map[string]string{"cluster": cluster})
		fields = append(fields, [2]string{api.FieldEngineParams, string(e)})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	for _, f := range b.Files {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, "", fmt.Errorf("cannot send %s: %w", f.Path, err)
		}
		part, err := w.CreateFormFile(api.FieldAttachment, f.Name)
		if err != nil {
			return nil, "", err
		}
		if _, err := part.Write(data); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &buf, w.FormDataContentType(), nil
}

// Register sends the bundle's documents as a registered workflow; query
// carries its name and version.
func (c *Client) Register(ctx context.Context, b *Bundle, query string) error {
	body, ctype, err := multipartBody(b, "", nil)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, "/api/v1/workflows?"+query, body, ctype, nil)
}

// Run returns a run.
func (c *Client) Run(ctx context.Context, id string) (*api.Run, error) {
	var r api.Run
	return &r, c.do(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(id), nil, "", &r)
}

// Runs returns a page of runs, newest first.
func (c *Client) Runs(ctx context.Context, pageSize int, pageToken string) (*api.RunList, error) {
	q := url.Values{}
	if pageSize > 0 {
		q.Set("page_size", fmt.Sprint(pageSize))
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var l api.RunList
	return &l, c.do(ctx, http.MethodGet, "/api/v1/runs?"+q.Encode(), nil, "", &l)
}

// Cancel asks the daemon to stop a run.
func (c *Client) Cancel(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/runs/"+url.PathEscape(id)+"/cancel", nil, "", nil)
}

// errDone ends Follow's reading once the run finished.
var errDone = errors.New("run finished")

// Follow calls fn with each event of the run, from after event id after,
// until the run finishes (it returns the run then) or ctx ends. A dropped
// connection is resumed where it stopped (Last-Event-ID).
func (c *Client) Follow(ctx context.Context, id string, after uint64, fn func(api.Event)) (*api.Run, error) {
	for {
		err := c.stream(ctx, "/api/v1/runs/"+url.PathEscape(id)+"/events", &after, func(e api.Event) error {
			fn(e)
			var st api.StateEvent
			if e.Kind == "state" && json.Unmarshal(e.Data, &st) == nil && st.State.Finished() {
				return errDone
			}
			return nil
		})
		if errors.Is(err, errDone) {
			return c.Run(ctx, id)
		}
		var se *StatusError
		if ctx.Err() != nil || errors.As(err, &se) {
			return nil, err
		}
		select { // the stream broke: the daemon restarting, say
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
