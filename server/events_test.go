package server

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// Revoking a token ends its open team stream, in this process so that the
// race detector watches the store's revocations and the stream together;
// a stream of another token stays open.
func TestRevocationEndsTheTokensStreams(t *testing.T) {
	base, s, tokens := newTestServer(t, Config{}, "lab", "other")
	open := func(token string) <-chan struct{} {
		req, _ := http.NewRequest("GET", base+"/api/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("the team stream: %v %v", err, resp)
		}
		ended := make(chan struct{})
		go func() {
			defer close(ended)
			defer resp.Body.Close()
			io.Copy(io.Discard, resp.Body)
		}()
		t.Cleanup(func() { resp.Body.Close() })
		return ended
	}
	lab, other := open(tokens["lab"]), open(tokens["other"])
	labTok, err := s.store.Verify(tokens["lab"])
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.RevokeToken("lab", labTok.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lab:
	case <-time.After(15 * time.Second):
		t.Fatal("the revoked token's stream is still open after 15 s")
	}
	select {
	case <-other:
		t.Error("another token's stream ended too")
	case <-time.After(200 * time.Millisecond):
	}
}
