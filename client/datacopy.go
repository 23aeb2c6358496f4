package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/flow-cwl/flow/api"
)

// SubmitDataCopy asks the daemon to copy source (an S3 object or prefix,
// or an HTTPS file) into the directory to on cluster, and returns the
// copy's ID. It is followed as a run is (Follow).
func (c *Client) SubmitDataCopy(ctx context.Context, req api.DataCopyRequest) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	var s api.Submitted
	err = c.do(ctx, http.MethodPost, "/api/v1/data-copies", bytes.NewReader(body), "application/json", &s)
	return s.ID, err
}

// DataCopy returns a data copy, with its progress.
func (c *Client) DataCopy(ctx context.Context, id string) (*api.DataCopy, error) {
	var d api.DataCopy
	return &d, c.do(ctx, http.MethodGet, "/api/v1/data-copies/"+url.PathEscape(id), nil, "", &d)
}

// DataCopies returns the team's data copies, newest first.
func (c *Client) DataCopies(ctx context.Context) ([]api.DataCopy, error) {
	var l api.DataCopyList
	return l.DataCopies, c.do(ctx, http.MethodGet, "/api/v1/data-copies", nil, "", &l)
}

// CancelDataCopy asks the daemon to stop a data copy.
func (c *Client) CancelDataCopy(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/data-copies/"+url.PathEscape(id), nil, "", nil)
}
