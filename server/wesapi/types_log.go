package wesapi

import "encoding/json"

// RunRequest is the request a run was submitted with, as echoed in RunLog.
// POST /runs receives these fields as multipart/form-data parts, the
// object-valued ones (workflow_params, tags, workflow_engine_parameters)
// JSON-encoded in a string part.
type RunRequest struct {
	WorkflowParams           map[string]any    `json:"workflow_params,omitempty"`
	WorkflowType             string            `json:"workflow_type"`
	WorkflowTypeVersion      string            `json:"workflow_type_version"`
	Tags                     map[string]string `json:"tags,omitempty"`
	WorkflowEngineParameters map[string]string `json:"workflow_engine_parameters,omitempty"`
	WorkflowEngine           string            `json:"workflow_engine,omitempty"`
	WorkflowEngineVersion    string            `json:"workflow_engine_version,omitempty"`
	WorkflowURL              string            `json:"workflow_url"`
}

// RunLog answers GET /runs/{run_id}. Outputs is the workflow's output
// object (for CWL, the output object of the run).
type RunLog struct {
	RunID       string         `json:"run_id"`
	Request     *RunRequest    `json:"request,omitempty"`
	State       State          `json:"state,omitempty"`
	RunLog      *Log           `json:"run_log,omitempty"`
	TaskLogsURL string         `json:"task_logs_url,omitempty"`
	Outputs     map[string]any `json:"outputs,omitempty"`
	// TaskLogs is deprecated in WES 1.1 in favour of TaskLogsURL; it is
	// kept for WES 1.0 clients.
	TaskLogs []TaskLog `json:"task_logs,omitempty"`
}

// Log describes the workflow run as a whole (RunLog.RunLog). Stdout and
// Stderr are URLs, not contents; times come from Timestamp.
type Log struct {
	Name       string   `json:"name,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	StartTime  string   `json:"start_time,omitempty"`
	EndTime    string   `json:"end_time,omitempty"`
	Stdout     string   `json:"stdout,omitempty"`
	Stderr     string   `json:"stderr,omitempty"`
	ExitCode   *int32   `json:"exit_code,omitempty"`
	SystemLogs []string `json:"system_logs,omitempty"`
}

// TaskLog describes one task (a CWL step's job) of a run. The spec
// requires ID and Name, so they are never omitted.
type TaskLog struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Cmd        []string `json:"cmd,omitempty"`
	StartTime  string   `json:"start_time,omitempty"`
	EndTime    string   `json:"end_time,omitempty"`
	Stdout     string   `json:"stdout,omitempty"`
	Stderr     string   `json:"stderr,omitempty"`
	ExitCode   *int32   `json:"exit_code,omitempty"`
	SystemLogs []string `json:"system_logs,omitempty"`
	TESURI     string   `json:"tes_uri,omitempty"`
}

// TaskListResponse answers GET /runs/{run_id}/tasks. NextPageToken is
// always written; "" means there are no more pages.
type TaskListResponse struct {
	TaskLogs      []TaskLog `json:"task_logs"`
	NextPageToken string    `json:"next_page_token"`
}

// MarshalJSON writes nil TaskLogs as [].
func (r TaskListResponse) MarshalJSON() ([]byte, error) {
	type plain TaskListResponse
	p := plain(r)
	p.TaskLogs = orEmpty(p.TaskLogs)
	return json.Marshal(p)
}

// ErrorResponse is the body of every WES error answer.
type ErrorResponse struct {
	Msg        string `json:"msg"`
	StatusCode int    `json:"status_code"`
}

// NewError builds the ErrorResponse for an HTTP status.
func NewError(status int, msg string) ErrorResponse {
	return ErrorResponse{Msg: msg, StatusCode: status}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orEmptyMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}
