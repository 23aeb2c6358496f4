package api

import "time"

// A data copy is a task of the daemon's: it fetches an S3 object or
// prefix (or an HTTPS file), with the team's own S3 credentials, and puts
// it at a path on one of the daemon's clusters over SFTP, with the
// team's key for that cluster. It is queued, run, canceled and followed
// as a run is: its events stream at /api/v1/runs/{id}/events, and it is
// listed among the team's runs, with an empty workflow.

// DataCopyRequest is the body of POST /api/v1/data-copies.
type DataCopyRequest struct {
	Source  string `json:"source"`  // s3://bucket/key, s3://bucket/prefix/ or https://...
	Cluster string `json:"cluster"` // one of the daemon's clusters
	To      string `json:"to"`      // an absolute directory on the cluster
}

// DataCopy is a data copy, as GET /api/v1/data-copies/{id} returns it.
type DataCopy struct {
	ID      string `json:"id"`
	State   State  `json:"state"`
	Source  string `json:"source"`
	Cluster string `json:"cluster"`
	To      string `json:"to"`
	// Where the data is on the cluster, once the copy is COMPLETE.
	Destination string `json:"destination,omitempty"`
	// Bytes fetched so far of the bytes to fetch (-1: not known yet), as
	// the copy's last progress event says; a copy that found everything
	// in the daemon's download cache fetches nothing.
	BytesDone  int64     `json:"bytes_done"`
	BytesTotal int64     `json:"bytes_total"`
	Error      string    `json:"error,omitempty"`
	Submitted  time.Time `json:"submitted"`
	Started    time.Time `json:"started,omitzero"`
	Finished   time.Time `json:"finished,omitzero"`
}

// DataCopyList is GET /api/v1/data-copies: the team's copies, newest
// first.
type DataCopyList struct {
	DataCopies []DataCopy `json:"data_copies"`
}
