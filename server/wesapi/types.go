package wesapi

import (
	"encoding/json"
	"time"
)

// State is the state of a workflow run (the State schema).
type State string

// The eleven run states WES 1.1 allows, in the order the spec lists them.
const (
	StateUnknown       State = "UNKNOWN"
	StateQueued        State = "QUEUED"
	StateInitializing  State = "INITIALIZING"
	StateRunning       State = "RUNNING"
	StatePaused        State = "PAUSED"
	StateComplete      State = "COMPLETE"
	StateExecutorError State = "EXECUTOR_ERROR"
	StateSystemError   State = "SYSTEM_ERROR"
	StateCanceled      State = "CANCELED"
	StateCanceling     State = "CANCELING"
	StatePreempted     State = "PREEMPTED"
)

// States lists every State the spec allows.
var States = []State{
	StateUnknown, StateQueued, StateInitializing, StateRunning, StatePaused,
	StateComplete, StateExecutorError, StateSystemError, StateCanceled,
	StateCanceling, StatePreempted,
}

// Terminal reports whether a run in state s will not change state again.
func (s State) Terminal() bool {
	switch s {
	case StateComplete, StateExecutorError, StateSystemError, StateCanceled, StatePreempted:
		return true
	}
	return false
}

// Timestamp formats t the way WES writes times: UTC, whole seconds,
// "%Y-%m-%dT%H:%M:%SZ" (valid RFC 3339 and ISO 8601). The zero time gives "".
func Timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// ServiceType is the GA4GH service-info type; WES uses group "org.ga4gh",
// artifact "wes" and the WES version.
type ServiceType struct {
	Group    string `json:"group"`
	Artifact string `json:"artifact"`
	Version  string `json:"version"`
}

// Organization names who provides the service; URL must be an absolute URI.
type Organization struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// ServiceInfo answers GET /service-info: the GA4GH service-info 1.0.0
// Service fields (camelCase there) followed by the WES fields. All WES
// fields are required by the spec, so none is omitted; nil maps and slices
// are written as {} and [].
type ServiceInfo struct {
	ID               string       `json:"id"`
	Name             string       `json:"name"`
	Type             ServiceType  `json:"type"`
	Description      string       `json:"description,omitempty"`
	Organization     Organization `json:"organization"`
	ContactURL       string       `json:"contactUrl,omitempty"`
	DocumentationURL string       `json:"documentationUrl,omitempty"`
	CreatedAt        string       `json:"createdAt,omitempty"` // RFC 3339
	UpdatedAt        string       `json:"updatedAt,omitempty"` // RFC 3339
	Environment      string       `json:"environment,omitempty"`
	Version          string       `json:"version"`

	WorkflowTypeVersions            map[string]WorkflowTypeVersion   `json:"workflow_type_versions"`
	SupportedWESVersions            []string                         `json:"supported_wes_versions"`
	SupportedFilesystemProtocols    []string                         `json:"supported_filesystem_protocols"`
	WorkflowEngineVersions          map[string]WorkflowEngineVersion `json:"workflow_engine_versions"`
	DefaultWorkflowEngineParameters []DefaultWorkflowEngineParameter `json:"default_workflow_engine_parameters"`
	SystemStateCounts               map[State]int64                  `json:"system_state_counts"`
	AuthInstructionsURL             string                           `json:"auth_instructions_url"`
	Tags                            map[string]string                `json:"tags"`
}

// MarshalJSON writes nil collections as empty ones, as the spec requires.
func (s ServiceInfo) MarshalJSON() ([]byte, error) {
	type plain ServiceInfo
	p := plain(s)
	p.WorkflowTypeVersions = orEmptyMap(p.WorkflowTypeVersions)
	p.SupportedWESVersions = orEmpty(p.SupportedWESVersions)
	p.SupportedFilesystemProtocols = orEmpty(p.SupportedFilesystemProtocols)
	p.WorkflowEngineVersions = orEmptyMap(p.WorkflowEngineVersions)
	p.DefaultWorkflowEngineParameters = orEmpty(p.DefaultWorkflowEngineParameters)
	p.SystemStateCounts = orEmptyMap(p.SystemStateCounts)
	p.Tags = orEmptyMap(p.Tags)
	return json.Marshal(p)
}

// WorkflowTypeVersion lists the accepted versions of one workflow type,
// keyed by type ("CWL") in ServiceInfo.WorkflowTypeVersions.
type WorkflowTypeVersion struct {
	WorkflowTypeVersion []string `json:"workflow_type_version,omitempty"`
}

// WorkflowEngineVersion lists the versions of one engine, keyed by engine
// name in ServiceInfo.WorkflowEngineVersions.
type WorkflowEngineVersion struct {
	WorkflowEngineVersion []string `json:"workflow_engine_version,omitempty"`
}

// DefaultWorkflowEngineParameter describes one engine parameter and its
// default, stringified ("2.45").
type DefaultWorkflowEngineParameter struct {
	Name         string `json:"name,omitempty"`
	Type         string `json:"type,omitempty"`
	DefaultValue string `json:"default_value,omitempty"`
}

// RunId answers POST /runs and POST /runs/{run_id}/cancel. The name
// mirrors the spec's RunId schema.
type RunId struct {
	RunID string `json:"run_id"`
}

// RunStatus answers GET /runs/{run_id}/status.
type RunStatus struct {
	RunID string `json:"run_id"`
	State State  `json:"state,omitempty"`
}

// RunSummary is one entry of RunListResponse.Runs. Tags is required by the
// spec and written as {} when nil; times come from Timestamp.
type RunSummary struct {
	RunID     string            `json:"run_id"`
	State     State             `json:"state,omitempty"`
	StartTime string            `json:"start_time,omitempty"`
	EndTime   string            `json:"end_time,omitempty"`
	Tags      map[string]string `json:"tags"`
}

// MarshalJSON writes nil Tags as {}.
func (r RunSummary) MarshalJSON() ([]byte, error) {
	type plain RunSummary
	p := plain(r)
	p.Tags = orEmptyMap(p.Tags)
	return json.Marshal(p)
}

// RunListResponse answers GET /runs. NextPageToken is always written; ""
// means there are no more pages.
type RunListResponse struct {
	Runs          []RunSummary `json:"runs"`
	NextPageToken string       `json:"next_page_token"`
}

// MarshalJSON writes nil Runs as [].
func (r RunListResponse) MarshalJSON() ([]byte, error) {
	type plain RunListResponse
	p := plain(r)
	p.Runs = orEmpty(p.Runs)
	return json.Marshal(p)
}
