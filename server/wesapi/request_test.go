package wesapi

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const helloCWL = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  message: {type: string, inputBinding: {position: 1}}
outputs: []
`

// part is one multipart form part; a non-empty file makes it a file part.
type part struct{ name, value, file string }

// runForm builds a POST /runs request the way a WES client sends it.
func runForm(t *testing.T, parts []part) *http.Request {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, p := range parts {
		if p.file == "" {
			if err := w.WriteField(p.name, p.value); err != nil {
				t.Fatal(err)
			}
			continue
		}
		fw, err := w.CreateFormFile(p.name, p.file)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(fw, p.value)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "http://127.0.0.1:8080/ga4gh/wes/v1/runs", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer not-checked-here")
	return req
}

func cwlRunParts(t *testing.T) []part {
	params, err := json.Marshal(map[string]any{"message": "hello"})
	if err != nil {
		t.Fatal(err)
	}
	return []part{
		{name: "workflow_params", value: string(params)},
		{name: "workflow_type", value: "CWL"},
		{name: "workflow_type_version", value: "v1.2"},
		{name: "workflow_url", value: "hello.cwl"},
		{name: "tags", value: `{"project":"demo"}`},
		{name: "workflow_attachment", value: helloCWL, file: "hello.cwl"},
		{name: "workflow_attachment", value: "message: hi\n", file: "inputs/job.yml"},
	}
}

func TestMultipartRunRequestValidates(t *testing.T) {
	req := runForm(t, cwlRunParts(t))
	if err := validator(t).Request(req); err != nil {
		t.Fatalf("valid POST /runs rejected: %v", err)
	}
	// The body was restored: a handler can still parse the form.
	if err := req.ParseMultipartForm(1 << 20); err != nil {
		t.Fatalf("body not restored: %v", err)
	}
	if got := req.FormValue("workflow_type_version"); got != "v1.2" {
		t.Errorf("workflow_type_version = %q", got)
	}
	if n := len(req.MultipartForm.File["workflow_attachment"]); n != 2 {
		t.Errorf("%d attachments survived, want 2", n)
	}
}

func TestBadRequestsRejected(t *testing.T) {
	cases := []struct {
		name string
		req  func(t *testing.T) *http.Request
		want string
	}{
		{"unknown form part", func(t *testing.T) *http.Request {
			return runForm(t, append(cwlRunParts(t), part{name: "workflow_typo", value: "CWL"}))
		}, "(RunWorkflow) request: request body"},
		{"page_size not a number", func(t *testing.T) *http.Request {
			return httptest.NewRequest("GET", "/ga4gh/wes/v1/runs?page_size=many", nil)
		}, `parameter "page_size" in query`},
		{"no such operation", func(t *testing.T) *http.Request {
			return httptest.NewRequest("DELETE", "/ga4gh/wes/v1/runs/r1", nil)
		}, "DELETE /ga4gh/wes/v1/runs/r1: no WES 1.1 operation"},
		{"outside the base path", func(t *testing.T) *http.Request {
			return httptest.NewRequest("GET", "/runs", nil)
		}, "GET /runs: no WES 1.1 operation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validator(t).Request(c.req(t))
			if err == nil {
				t.Fatal("bad request accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			t.Log(err)
		})
	}
}

func TestGetRequestsValidate(t *testing.T) {
	for _, target := range []string{
		"/ga4gh/wes/v1/service-info",
		"/ga4gh/wes/v1/runs?page_size=10&page_token=r3",
		"/ga4gh/wes/v1/runs/r1",
		"/ga4gh/wes/v1/runs/r1/status",
		"/ga4gh/wes/v1/runs/r1/tasks?page_size=5",
		"/ga4gh/wes/v1/runs/r1/tasks/t1",
	} {
		if err := validator(t).Request(httptest.NewRequest("GET", target, nil)); err != nil {
			t.Errorf("GET %s rejected: %v", target, err)
		}
	}
}
