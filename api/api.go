// Package api holds the wire types of flowd's native HTTP API, under
// /api/v1: what the daemon (package server) writes and its Go client
// (package client) reads. Both import this package and nothing of each
// other, so the client can be vendored into tools without the daemon.
//
// Runs are submitted the way GA4GH WES clients submit them, as
// multipart/form-data with the fields of SubmitFields; the same request
// works at /api/v1/runs and at /ga4gh/wes/v1/runs. Everything else is
// JSON. Errors are an Error object with the HTTP status.
package api

import (
	"encoding/json"
	"time"

	"github.com/flow-cwl/flow/internal/cwljson"
)

// The multipart fields of a run submission (WES 1.1's RunRequest).
const (
	FieldParams       = "workflow_params"            // the input object, JSON
	FieldType         = "workflow_type"              // "CWL"
	FieldTypeVersion  = "workflow_type_version"      // "v1.2" (v1.0 and v1.1 are accepted)
	FieldURL          = "workflow_url"               // the main document: a path among the attachments, with #fragment
	FieldAttachment   = "workflow_attachment"        // files; each part's filename is its path in the run directory
	FieldTags         = "tags"                       // JSON object of strings
	FieldEngineParams = "workflow_engine_parameters" // JSON object: {"cluster": "hpc1"} picks a cluster
)

// State is how a run stands. The names are WES's.
type State string

const (
	Queued        State = "QUEUED"
	Initializing  State = "INITIALIZING"
	Running       State = "RUNNING"
	Complete      State = "COMPLETE"
	ExecutorError State = "EXECUTOR_ERROR" // the workflow failed
	SystemError   State = "SYSTEM_ERROR"   // the daemon could not run it
	Canceled      State = "CANCELED"
	Canceling     State = "CANCELING"
)

// Finished reports whether a run in state s will change no more.
func (s State) Finished() bool {
	return s == Complete || s == ExecutorError || s == SystemError || s == Canceled
}

// Run is a submitted run, as GET /api/v1/runs/{id} returns it.
type Run struct {
	ID        string            `json:"id"`
	Team      string            `json:"team"`
	Name      string            `json:"name,omitempty"`
	State     State             `json:"state"`
	Workflow  string            `json:"workflow"` // the main document, relative to the run directory
	Inputs    map[string]any    `json:"inputs,omitempty"`
	Outputs   map[string]any    `json:"outputs,omitempty"` // locations are paths under /outputs/
	Error     string            `json:"error,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	Cluster   string            `json:"cluster,omitempty"` // "" runs on the daemon's machine
	Submitted time.Time         `json:"submitted"`
	Started   time.Time         `json:"started,omitzero"`
	Finished  time.Time         `json:"finished,omitzero"`

	// SubmittedBy is the name of the token that submitted the run.
	SubmittedBy string `json:"submitted_by,omitempty"`
}

// UnmarshalJSON decodes a run keeping the numbers of its inputs and
// outputs exact (see cwljson): decoded plainly, an output 4200000000000000000000000000000000000000000
// would come back as 4.2e+42.
func (r *Run) UnmarshalJSON(data []byte) error {
	type plain Run // without this method
	if err := cwljson.Decode(data, (*plain)(r)); err != nil {
		return err
	}
	cwljson.Normalize(r.Inputs)
	cwljson.Normalize(r.Outputs)
	return nil
}

// RunList is a page of runs, newest first.
type RunList struct {
	Runs          []Run  `json:"runs"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// Submitted answers a submission.
type Submitted struct {
	ID string `json:"id"`
}

// Event is one thing that happened to a run: its state changed ("state",
// Data is a StateEvent), or it logged ("log", Data is the log line's JSON
// object). Over Server-Sent Events, ID is the event id and Kind the event
// name.
type Event struct {
	ID    uint64          `json:"id"`
	RunID string          `json:"run_id"`
	Kind  string          `json:"kind"`
	Time  time.Time       `json:"time"`
	Data  json.RawMessage `json:"data"`
}

// StateEvent is the Data of a "state" event.
type StateEvent struct {
	State State  `json:"state"`
	Error string `json:"error,omitempty"`
}

// Error is the body of every error response.
type Error struct {
	Message string `json:"msg"`
	Status  int    `json:"status_code"`
}

// TokenRequest asks for a new token of the caller's team.
type TokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"` // admin, operator or viewer
}

// Token describes a token; its secret is shown once, in NewToken.
type Token struct {
	ID       string    `json:"id"`
	Team     string    `json:"team"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"`
}

// NewToken answers a TokenRequest.
type NewToken struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}

// SSHKey is the public half of a key pair the daemon keeps for the team.
type SSHKey struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	PublicKey   string    `json:"public_key"` // an authorized_keys line
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
}

// Workflow is a registered workflow version.
type Workflow struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	Main    string    `json:"main"` // the document runs start from
	Created time.Time `json:"created,omitzero"`
}

// Trigger starts a run of a registered workflow
// (POST /api/v1/workflows/{name}/runs).
type Trigger struct {
	Version string            `json:"version,omitempty"` // "" for the newest
	Inputs  map[string]any    `json:"inputs"`
	Cluster string            `json:"cluster,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
}

// Systems is what GET /api/v1/systems answers: how the daemon confines
// its runs' jobs, and how each of its clusters stands.
type Systems struct {
	// Isolation is "sandbox" (every job on the daemon's machine runs in a
	// sandbox that sees only its own files) or "none" (jobs run
	// unconfined, as the daemon's user).
	Isolation string          `json:"isolation"`
	Clusters  []ClusterStatus `json:"clusters"`
}

// ClusterStatus is how one cluster stands, as `flow clusters status`
// reports it.
type ClusterStatus struct {
	Name       string          `json:"name"`
	Reachable  bool            `json:"reachable"`
	Latency    time.Duration   `json:"latency_ns"`
	Partitions []PartitionInfo `json:"partitions"`
	Workdir    string          `json:"workdir"`
	FreeBytes  int64           `json:"free_bytes"`
	Error      string          `json:"error,omitempty"`
}

// PartitionInfo is a Slurm partition and how its nodes stand.
type PartitionInfo struct {
	Name    string         `json:"name"`
	Up      bool           `json:"up"`
	Avail   string         `json:"avail"`
	Default bool           `json:"default"`
	Nodes   map[string]int `json:"nodes"` // node state → count
}
