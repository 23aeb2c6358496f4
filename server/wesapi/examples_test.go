package wesapi

import (
	"net/http"
	"time"
)

// Example bodies, shaped as flowd will produce them.

var (
	started  = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	finished = started.Add(90 * time.Second)
)

func exampleServiceInfo() ServiceInfo {
	return ServiceInfo{
		ID:   "org.flow-cwl.flowd",
		Name: "flowd",
		Type: ServiceType{Group: "org.ga4gh", Artifact: "wes", Version: SpecVersion},
		Organization: Organization{
			Name: "flow", URL: "https://github.com/flow-cwl/flow",
		},
		CreatedAt: Timestamp(started),
		Version:   "0.9.0",
		WorkflowTypeVersions: map[string]WorkflowTypeVersion{
			"CWL": {WorkflowTypeVersion: []string{"v1.0", "v1.1", "v1.2"}},
		},
		SupportedWESVersions:         []string{SpecVersion},
		SupportedFilesystemProtocols: []string{"file", "http", "https"},
		WorkflowEngineVersions: map[string]WorkflowEngineVersion{
			"flow": {WorkflowEngineVersion: []string{"0.9.0"}},
		},
		DefaultWorkflowEngineParameters: []DefaultWorkflowEngineParameter{
			{Name: "parallel", Type: "int", DefaultValue: "4"},
		},
		SystemStateCounts:   map[State]int64{StateRunning: 1, StateComplete: 7},
		AuthInstructionsURL: "https://github.com/flow-cwl/flow#authentication",
		Tags:                map[string]string{"executor": "local"},
	}
}

func exampleRunList() RunListResponse {
	return RunListResponse{
		Runs: []RunSummary{
			{RunID: "r1", State: StateComplete, StartTime: Timestamp(started),
				EndTime: Timestamp(finished), Tags: map[string]string{"project": "demo"}},
			{RunID: "r2", State: StateQueued},
		},
		NextPageToken: "r3",
	}
}

func exampleRunLog() RunLog {
	exit := int32(0)
	return RunLog{
		RunID: "r1",
		Request: &RunRequest{
			WorkflowParams:      map[string]any{"message": "hello"},
			WorkflowType:        "CWL",
			WorkflowTypeVersion: "v1.2",
			WorkflowURL:         "hello.cwl",
			Tags:                map[string]string{"project": "demo"},
		},
		State: StateComplete,
		RunLog: &Log{
			Name: "hello.cwl", Cmd: []string{"flow", "run", "hello.cwl"},
			StartTime: Timestamp(started), EndTime: Timestamp(finished),
			Stdout:   "http://127.0.0.1:8080/ga4gh/wes/v1/runs/r1/stdout",
			ExitCode: &exit,
		},
		TaskLogsURL: "http://127.0.0.1:8080/ga4gh/wes/v1/runs/r1/tasks",
		Outputs: map[string]any{
			"out": map[string]any{
				"class": "File", "location": "file:///runs/r1/out.txt",
				"size": 6, "checksum": "sha1$f572d396fae9206628714fb2ce00f72e94f2258f",
			},
		},
	}
}

func exampleTaskList() TaskListResponse {
	exit := int32(1)
	return TaskListResponse{
		TaskLogs: []TaskLog{
			{ID: "r1/echo", Name: "echo", Cmd: []string{"echo", "hello"}, StartTime: Timestamp(started)},
			{ID: "r1/fail", Name: "fail", ExitCode: &exit, SystemLogs: []string{"exit status 1"}},
		},
		NextPageToken: "",
	}
}

func exampleStatus() RunStatus { return RunStatus{RunID: "r1", State: StateRunning} }

func unauthorized() ErrorResponse {
	return NewError(http.StatusUnauthorized, "missing or invalid bearer token")
}

func notFound() ErrorResponse { return NewError(http.StatusNotFound, "no run r9") }
