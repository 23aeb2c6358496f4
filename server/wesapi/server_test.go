package wesapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOverLoopback serves the examples from a real listener on 127.0.0.1
// and validates what an HTTP client receives, as flowd's tests will.
func TestOverLoopback(t *testing.T) {
	mux := http.NewServeMux()
	serve := func(pattern string, status int, v any) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(v)
		})
	}
	serve("GET /ga4gh/wes/v1/service-info", 200, exampleServiceInfo())
	serve("GET /ga4gh/wes/v1/runs", 200, exampleRunList())
	serve("GET /ga4gh/wes/v1/runs/{id}", 404, notFound())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, path := range []string{"/service-info", "/runs?page_size=2", "/runs/r9"} {
		resp, err := srv.Client().Get(srv.URL + BasePath + path)
		if err != nil {
			t.Fatal(err)
		}
		if err := validator(t).HTTPResponse(resp); err != nil {
			t.Errorf("GET %s: %v", path, err)
		}
		if b, _ := io.ReadAll(resp.Body); len(b) == 0 {
			t.Errorf("GET %s: body not restored after validation", path)
		}
		resp.Body.Close()
	}
}

func TestMissingContentTypeRejected(t *testing.T) {
	req := httptest.NewRequest("GET", BasePath+"/runs/r1/status", nil)
	err := validator(t).Response(req, 200, http.Header{}, []byte(`{"run_id":"r1"}`))
	if err == nil || !strings.Contains(err.Error(), "(GetRunStatus) 200") {
		t.Fatalf("response without Content-Type: %v", err)
	}
	t.Log(err)
}

// TestConcurrentUse lets -race check that one Validator serves many tests.
func TestConcurrentUse(t *testing.T) {
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			if err := answer(t, "GET", BasePath+"/runs", 200, exampleRunList()); err != nil {
				t.Error(err)
			}
			if err := validator(t).Request(runForm(t, cwlRunParts(t))); err != nil {
				t.Error(err)
			}
		})
	}
}
