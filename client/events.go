package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flow-cwl/flow/api"
)

// stream reads Server-Sent Events from path, starting after *last and
// advancing it, and hands each to fn until fn fails or the stream ends.
func (c *Client) stream(ctx context.Context, p string, last *uint64, fn func(api.Event) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+p, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", strconv.FormatUint(*last, 10))
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &StatusError{Status: resp.StatusCode, Message: strings.TrimSpace(string(data))}
	}
	return readEvents(resp.Body, func(e api.Event) error {
		*last = e.ID
		return fn(e)
	})
}

// readEvents parses an event stream: "id:", "event:" and "data:" lines,
// an empty line ending each event. Data is the api.Event as JSON.
func readEvents(r io.Reader, fn func(api.Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() == 0 {
				continue
			}
			var e api.Event
			if err := json.Unmarshal([]byte(data.String()), &e); err != nil {
				return fmt.Errorf("the daemon sent an event that is not JSON: %w", err)
			}
			data.Reset()
			if err := fn(e); err != nil {
				return err
			}
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	return sc.Err()
}

// Outputs downloads a finished run's output files into dir and returns
// its output object with locations and paths there.
func (c *Client) Outputs(ctx context.Context, r *api.Run, dir string) (map[string]any, error) {
	var files []string
	if err := c.do(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(r.ID)+"/files", nil, "", &files); err != nil {
		return nil, err
	}
	for _, name := range files {
		if err := c.download(ctx, r.ID, name, dir); err != nil {
			return nil, err
		}
	}
	return relocate(r.Outputs, dir), nil
}

// download fetches one output file, refusing names that would leave dir.
func (c *Client) download(ctx context.Context, runID, name, dir string) error {
	clean := path.Clean(name)
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("the daemon named an output %q outside the output directory", name)
	}
	resp, err := c.send(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(runID)+"/files/"+escapePath(clean), nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dst := filepath.Join(dir, filepath.FromSlash(clean))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("cannot download %s: %w", name, err)
	}
	return f.Close()
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// relocate points the output object's relative locations into dir.
func relocate(v any, dir string) map[string]any {
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case []any:
			out := make([]any, len(t))
			for i, it := range t {
				out[i] = walk(it)
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(t))
			for k, it := range t {
				out[k] = walk(it)
			}
			if loc, ok := out["location"].(string); ok && (out["class"] == "File" || out["class"] == "Directory") && !strings.Contains(loc, "://") {
				p := filepath.Join(dir, filepath.FromSlash(loc))
				out["location"], out["path"] = "file://"+p, p
			}
			return out
		}
		return v
	}
	m, _ := walk(v).(map[string]any)
	return m
}
