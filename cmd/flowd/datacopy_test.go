package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/s3test"
	"github.com/flow-cwl/flow/internal/testcluster"
)

// A team asks the daemon to copy an S3 prefix to the cluster: flowd
// fetches it with the team's own S3 credentials and puts it in the
// cluster's directory over SFTP, as a task flow follows to its end and
// lists beside the team's runs. A team without credentials for the
// bucket gets nothing. Another team neither sees the copy nor
// can cancel it; a copy its team cancels stops; a destination that is
// not a clean absolute path is refused.
func TestDataCopyThroughTheDaemon(t *testing.T) {
	c := testcluster.Require(t)
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "run42/a.fq", []byte("@a\nACGT\n"))
	srv.Put(t, bucket, "run42/deep/b.fq", []byte("@b\nTTGA\n"))
	// /slow.fa sends its first bytes, then nothing until the client goes.
	https, caFile := s3test.HTTPS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow.fa" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", "1000")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))

	cfgDir := t.TempDir()
	workdir := filepath.Join(c.WorkDir, fmt.Sprint("flowd-copy-", os.Getpid()))
	t.Cleanup(func() { os.RemoveAll(workdir) })
	clustersFile := filepath.Join(cfgDir, "clusters.yaml")
	os.WriteFile(clustersFile, []byte(fmt.Sprintf(`clusters:
  - name: test
    host: %s
    port: %d
    username: %s
    ssh_key: {path: %s}
    known_hosts: %s
    workdir: %s
    shared_fs: false
`, c.SSHHost, c.SSHPort, c.SSHUser, c.SSHKey, c.SSHKnownHosts, workdir)), 0o600)
	daemonCfg := filepath.Join(cfgDir, "flowd.yaml")
	os.WriteFile(daemonCfg, []byte("clusters: "+clustersFile+"\n"), 0o600)
	d := newDaemon(t, "--config", daemonCfg)
	d.env = []string{"SSL_CERT_FILE=" + caFile}
	genomics, imaging := d.token("genomics", "operator"), d.token("imaging", "admin")
	genomicsAdmin, viewer := d.token("genomics", "admin"), d.token("genomics", "viewer")
	d.start()
	body, _ := json.Marshal(map[string]any{"name": "site", "endpoint": srv.Endpoint, "buckets": []string{bucket},
		"access_key": srv.AccessKey, "secret_key": srv.SecretKey})
	if status, out := d.request("POST", "/api/v1/s3-credentials", genomicsAdmin, body, "application/json"); status != 201 {
		t.Fatalf("adding S3 credentials: %d %s", status, out)
	}

	scratch := filepath.Join(workdir, "scratch")
	daemonFlags := func(tok string) []string { return []string{"--compute_url", d.url, "--compute_access_token", tok} }
	code, stdout, stderr := flow(t, nil, append([]string{"data", "copy", "s3://" + bucket + "/run42/", "--cluster", "test", "--to", scratch, "--json"}, daemonFlags(genomics)...)...)
	if code != 0 {
		t.Fatalf("flow data copy through the daemon: exit %d\n%s\n%s", code, stderr, d.log.String())
	}
	var res struct {
		Destination string
		Bytes       int64
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Destination != scratch+"/run42" || res.Bytes != 16 {
		t.Errorf("flow data copy printed %q (%v); want destination %s/run42 and 16 bytes", stdout, err, scratch)
	}
	for name, want := range map[string]string{"a.fq": "@a\nACGT\n", "deep/b.fq": "@b\nTTGA\n"} {
		if got, err := os.ReadFile(filepath.Join(scratch, "run42", name)); err != nil || string(got) != want {
			t.Errorf("%s on the cluster: %q, %v", name, got, err)
		}
	}
	if !strings.Contains(stderr, "COMPLETE") {
		t.Errorf("flow did not show the copy's end:\n%s", stderr)
	}

	// Listed for its team, with the run commands' states; for no other.
	code, stdout, stderr = flow(t, nil, append([]string{"data", "copies"}, daemonFlags(genomics)...)...)
	if code != 0 || !strings.Contains(stdout, "COMPLETE") || !strings.Contains(stdout, "s3://"+bucket+"/run42/") || !strings.Contains(stdout, "test:"+scratch) {
		t.Errorf("flow data copies: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = flow(t, nil, append([]string{"data", "copies"}, daemonFlags(imaging)...)...)
	if code != 0 || strings.Contains(stdout, bucket) {
		t.Errorf("another team's flow data copies: exit %d\n%s", code, stdout)
	}

	// A large object's transfer shows its progress: the daemon's events
	// carry it to flow, and the copy's record its bytes.
	big := make([]byte, 33<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	srv.Put(t, bucket, "ref/big.fa", big)
	code, stdout, stderr = flow(t, nil, append([]string{"data", "copy", "s3://" + bucket + "/ref/big.fa", "--cluster", "test", "--to", scratch}, daemonFlags(genomics)...)...)
	if code != 0 {
		t.Fatalf("copying a large object: exit %d\n%s", code, stderr)
	}
	if got, err := os.ReadFile(filepath.Join(scratch, "big.fa")); err != nil || string(got) != string(big) {
		t.Errorf("big.fa on the cluster: %d bytes, %v; want the object's %d", len(got), err, len(big))
	}
	if want := fmt.Sprintf("size=%d", len(big)); !strings.Contains(stderr, "download started") || !strings.Contains(stderr, "download done") || !strings.Contains(stderr, want) {
		t.Errorf("flow showed no progress of the download (want %s):\n%s", want, stderr)
	}
	_, out := d.request("GET", "/api/v1/data-copies", genomics, nil, "")
	var list struct {
		DataCopies []struct {
			BytesDone  int64 `json:"bytes_done"`
			BytesTotal int64 `json:"bytes_total"`
		} `json:"data_copies"`
	}
	json.Unmarshal(out, &list)
	if len(list.DataCopies) != 2 || list.DataCopies[0].BytesDone != int64(len(big)) || list.DataCopies[0].BytesTotal != int64(len(big)) {
		t.Errorf("the team's copies, newest first, do not hold the large copy's bytes:\n%s", out)
	}

	// Another team has no S3 credentials of its own: the daemon lends it
	// neither genomics' nor its own.
	code, _, stderr = flow(t, nil, append([]string{"data", "copy", "s3://" + bucket + "/run42/", "--cluster", "test", "--to", scratch + "/imaging"}, daemonFlags(imaging)...)...)
	if code == 0 || !strings.Contains(stderr, "s3://"+bucket+"/run42/: forbidden: no S3 credentials") {
		t.Errorf("a copy by a team without credentials: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(scratch, "imaging")); err == nil {
		t.Error("the copy of a team without credentials reached the cluster")
	}

	// A copy that is running: its team sees it RUNNING; the other team
	// can neither see nor cancel it; its team cancels it.
	req, _ := json.Marshal(map[string]string{"source": https.URL + "/slow.fa", "cluster": "test", "to": scratch})
	status, out := d.request("POST", "/api/v1/data-copies", genomics, req, "application/json")
	var sub struct{ ID string }
	if json.Unmarshal(out, &sub); status != 201 || sub.ID == "" {
		t.Fatalf("POST /api/v1/data-copies: %d %s", status, out)
	}
	deadline := time.Now().Add(time.Minute)
	for state := ""; state != "RUNNING"; {
		if time.Now().After(deadline) {
			t.Fatalf("the slow copy is %s, never RUNNING\n%s", state, d.log.String())
		}
		_, out := d.request("GET", "/api/v1/data-copies/"+sub.ID, genomics, nil, "")
		var dc struct{ State string }
		json.Unmarshal(out, &dc)
		state = dc.State
		time.Sleep(100 * time.Millisecond)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if status, out := d.request(m, "/api/v1/data-copies/"+sub.ID, imaging, nil, ""); status != 404 {
			t.Errorf("another team's %s of the copy: %d %s", m, status, out)
		}
	}
	if status, out := d.request("DELETE", "/api/v1/data-copies/"+sub.ID, genomics, nil, ""); status != 202 {
		t.Fatalf("the team's cancel: %d %s", status, out)
	}
	if st := d.waitState(genomics, sub.ID, time.Minute); st != "CANCELED" {
		t.Errorf("the canceled copy ended %s", st)
	}

	for _, bad := range []string{"scratch", scratch + "/../../etc", scratch + "/", "/"} {
		req, _ := json.Marshal(map[string]string{"source": "s3://" + bucket + "/run42/", "cluster": "test", "to": bad})
		if status, out := d.request("POST", "/api/v1/data-copies", genomics, req, "application/json"); status != 400 || !strings.Contains(string(out), "to:") {
			t.Errorf("destination %q: %d %s", bad, status, out)
		}
	}
	req, _ = json.Marshal(map[string]string{"source": "https://lab:hunter2@example.org/ref.fa", "cluster": "test", "to": scratch})
	if status, out := d.request("POST", "/api/v1/data-copies", genomics, req, "application/json"); status != 400 || !strings.Contains(string(out), "source:") {
		t.Errorf("a source with a password: %d %s", status, out)
	}
	req, _ = json.Marshal(map[string]string{"source": "s3://" + bucket + "/run42/", "cluster": "elsewhere", "to": scratch})
	if status, out := d.request("POST", "/api/v1/data-copies", genomics, req, "application/json"); status != 400 || !strings.Contains(string(out), `no cluster \"elsewhere\"`) {
		t.Errorf("an unknown cluster: %d %s", status, out)
	}
	if status, _ := d.request("POST", "/api/v1/data-copies", viewer, req, "application/json"); status != 403 {
		t.Errorf("a viewer's copy: %d, want 403", status)
	}
	if strings.Contains(d.log.String(), srv.SecretKey) {
		t.Error("the secret key is in the daemon's log")
	}
}
