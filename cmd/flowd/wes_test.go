package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flow-cwl/flow/server/wesapi"
)

// wesSubmission builds POST /runs as WES clients send it: the fields as
// form parts, the workflow's files and the data as attachments named by
// their paths.
func wesSubmission(t *testing.T) ([]byte, string) {
	t.Helper()
	params := map[string]any{"sequences": []any{
		map[string]any{"class": "File", "location": "data/sample_a.fa"},
		map[string]any{"class": "File", "location": "data/sample_b.fa"},
		map[string]any{"class": "File", "location": "data/sample_c.fa"},
	}}
	p, _ := json.Marshal(params)
	f := form{fields: [][2]string{{"workflow_params", string(p)}, {"workflow_type", "CWL"}, {"workflow_type_version", "v1.2"},
		{"workflow_url", "fasta-stats.cwl"}, {"tags", `{"project":"wes-test"}`}}}
	for _, name := range []string{"fasta-stats.cwl", "tools/seqstats.cwl", "tools/merge-tables.cwl", "data/sample_a.fa", "data/sample_b.fa", "data/sample_c.fa"} {
		data, err := os.ReadFile(filepath.Join("../../examples/workflows", name))
		if err != nil {
			t.Fatal(err)
		}
		f.files = append(f.files, [2]string{name, string(data)})
	}
	return f.encode()
}

// A run submitted through WES completes, and every WES answer on the way
// validates against the WES 1.1 OpenAPI document.
func TestWESRunValidatesAgainstTheSpec(t *testing.T) {
	v, err := wesapi.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t)
	tok := d.token("genomics", "operator")
	d.start()
	call := func(method, path string, body []byte, ctype string, token string) (int, []byte) {
		t.Helper()
		status, resp := d.request(method, wesapi.BasePath+path, token, body, ctype)
		req, _ := http.NewRequest(method, d.url+wesapi.BasePath+path, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if err := v.Response(req, status, http.Header{"Content-Type": {"application/json"}}, resp); err != nil {
			t.Errorf("%s %s: the answer breaks the WES spec: %v\n%s", method, path, err, resp)
		}
		return status, resp
	}
	body, ctype := wesSubmission(t)
	req, _ := http.NewRequest("POST", d.url+wesapi.BasePath+"/runs", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if err := v.Request(req); err != nil {
		t.Fatalf("the test's own submission breaks the spec: %v", err)
	}
	call("GET", "/service-info", nil, "", tok)
	status, resp := call("POST", "/runs", body, ctype, tok)
	var id wesapi.RunId
	if json.Unmarshal(resp, &id); status != 200 || id.RunID == "" {
		t.Fatalf("POST /runs: %d %s", status, resp)
	}
	deadline := time.Now().Add(60 * time.Second)
	var st wesapi.RunStatus
	for time.Now().Before(deadline) {
		_, resp = call("GET", "/runs/"+id.RunID+"/status", nil, "", tok)
		json.Unmarshal(resp, &st)
		if st.State.Terminal() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.State != wesapi.StateComplete {
		t.Fatalf("the run ended %s\n%s", st.State, d.log.String())
	}
	_, resp = call("GET", "/runs/"+id.RunID, nil, "", tok)
	var log wesapi.RunLog
	json.Unmarshal(resp, &log)
	if report, _ := log.Outputs["report"].(map[string]any); report["checksum"] == nil {
		t.Errorf("the run log has no outputs: %s", resp)
	}
	call("GET", "/runs", nil, "", tok)
	_, resp = call("GET", "/runs/"+id.RunID+"/tasks", nil, "", tok)
	var tasks wesapi.TaskListResponse
	if json.Unmarshal(resp, &tasks); len(tasks.TaskLogs) < 4 { // three seqstats jobs and the merge
		t.Errorf("tasks: %s", resp)
	}
	call("POST", "/runs/"+id.RunID+"/cancel", nil, "", tok)
	if status, _ := call("GET", "/runs/no-such-run", nil, "", tok); status != 404 {
		t.Errorf("an unknown run: %d", status)
	}
	if status, _ := call("GET", "/runs", nil, "", ""); status != 401 {
		t.Errorf("no token: %d", status)
	}
}
