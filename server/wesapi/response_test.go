package wesapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

var (
	sharedOnce sync.Once
	shared     *Validator
	sharedErr  error
)

// validator returns one Validator for the whole test binary.
func validator(t *testing.T) *Validator {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = NewValidator() })
	if sharedErr != nil {
		t.Fatalf("NewValidator: %v", sharedErr)
	}
	return shared
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// answer validates v, marshalled as a server would, as the answer to
// method path with the given status.
func answer(t *testing.T, method, path string, status int, v any) error {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, nil)
	return validator(t).Response(req, status, jsonHeader, body)
}

func TestExamplesValidate(t *testing.T) {
	cases := []struct {
		name, method, path string
		status             int
		body               any
	}{
		{"service-info", "GET", "/ga4gh/wes/v1/service-info", 200, exampleServiceInfo()},
		{"zero service-info fields", "GET", "/ga4gh/wes/v1/service-info", 200, minimalServiceInfo()},
		{"list runs", "GET", "/ga4gh/wes/v1/runs?page_size=2", 200, exampleRunList()},
		{"empty run list", "GET", "/ga4gh/wes/v1/runs", 200, RunListResponse{}},
		{"submit run", "POST", "/ga4gh/wes/v1/runs", 200, RunId{RunID: "r1"}},
		{"run log", "GET", "/ga4gh/wes/v1/runs/r1", 200, exampleRunLog()},
		{"run status", "GET", "/ga4gh/wes/v1/runs/r1/status", 200, exampleStatus()},
		{"task list", "GET", "/ga4gh/wes/v1/runs/r1/tasks", 200, exampleTaskList()},
		{"empty task list", "GET", "/ga4gh/wes/v1/runs/r1/tasks", 200, TaskListResponse{}},
		{"one task", "GET", "/ga4gh/wes/v1/runs/r1/tasks/r1%2Fecho", 200, exampleTaskList().TaskLogs[0]},
		{"cancel", "POST", "/ga4gh/wes/v1/runs/r1/cancel", 200, RunId{RunID: "r1"}},
		{"401 service-info", "GET", "/ga4gh/wes/v1/service-info", 401, unauthorized()},
		{"401 list", "GET", "/ga4gh/wes/v1/runs", 401, unauthorized()},
		{"404 run log", "GET", "/ga4gh/wes/v1/runs/r9", 404, notFound()},
		{"404 status", "GET", "/ga4gh/wes/v1/runs/r9/status", 404, notFound()},
		{"404 cancel", "POST", "/ga4gh/wes/v1/runs/r9/cancel", 404, notFound()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := answer(t, c.method, c.path, c.status, c.body); err != nil {
				t.Errorf("valid %s rejected: %v", c.name, err)
			}
		})
	}
}

// minimalServiceInfo leaves every collection nil: MarshalJSON must still
// produce the {} and [] the spec requires.
func minimalServiceInfo() ServiceInfo {
	return ServiceInfo{
		ID: "org.flow-cwl.flowd", Name: "flowd", Version: "0.9.0",
		Type:                ServiceType{Group: "org.ga4gh", Artifact: "wes", Version: SpecVersion},
		Organization:        Organization{Name: "flow", URL: "https://github.com/flow-cwl/flow"},
		AuthInstructionsURL: "",
	}
}

func TestWrongShapesRejected(t *testing.T) {
	badState := exampleRunList()
	badState.Runs[1].State = "DONE"
	cases := []struct {
		name, method, path string
		status             int
		body               any
		want               []string // substrings of the error
	}{
		{"state DONE in list", "GET", "/ga4gh/wes/v1/runs", 200, badState,
			[]string{"GET /ga4gh/wes/v1/runs (ListRuns) 200", "/runs/1"}},
		{"state DONE in status", "GET", "/ga4gh/wes/v1/runs/r1/status", 200,
			map[string]any{"run_id": "r1", "state": "DONE"},
			[]string{"(GetRunStatus) 200", "at /state", "allowed values"}},
		{"status without run_id", "GET", "/ga4gh/wes/v1/runs/r1/status", 200,
			map[string]any{"state": "RUNNING"}, []string{`"run_id"`}},
		{"service-info without tags", "GET", "/ga4gh/wes/v1/service-info", 200,
			withoutKey(t, exampleServiceInfo(), "tags"), []string{"(GetServiceInfo) 200", `"tags"`}},
		{"organization url not a URI", "GET", "/ga4gh/wes/v1/service-info", 200,
			withOrgURL(exampleServiceInfo(), "flow-cwl"), []string{"/organization/url"}},
		{"task without name", "GET", "/ga4gh/wes/v1/runs/r1/tasks/t1", 200,
			map[string]any{"id": "t1"}, []string{"(GetTask) 200", `"name"`}},
		{"outputs not an object", "GET", "/ga4gh/wes/v1/runs/r1", 200,
			map[string]any{"run_id": "r1", "outputs": []string{"out.txt"}}, []string{"at /outputs"}},
		{"status_code as string", "GET", "/ga4gh/wes/v1/runs/r9", 404,
			map[string]any{"msg": "no run", "status_code": "404"}, []string{"404", "at /status_code"}},
		{"404 not listed for ListRuns", "GET", "/ga4gh/wes/v1/runs", 404, notFound(),
			[]string{"(ListRuns) 404", "status 404 is not defined for this operation (defined: 200, 400, 401, 403, 500)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := answer(t, c.method, c.path, c.status, c.body)
			if err == nil {
				t.Fatalf("wrong shape accepted")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %T: %v", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			t.Log(err)
		})
	}
}

func withoutKey(t *testing.T, v any, key string) map[string]any {
	t.Helper()
	b, _ := json.Marshal(v)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, key)
	return m
}

func withOrgURL(s ServiceInfo, u string) ServiceInfo {
	s.Organization.URL = u
	return s
}
