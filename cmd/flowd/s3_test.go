package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/s3test"
)

// Each team's runs use the team's own S3 credentials, which the daemon
// keeps sealed: genomics, given the server's keys, reads its S3 input
// and writes its output to S3; imaging, given other keys, is refused by
// the server, though its run starts after genomics' and from the same
// daemon. The API never returns a secret key, and neither the daemon's
// log nor either team's directory holds one.
func TestTeamsUseTheirOwnS3Credentials(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "in/reads.fq", []byte("@r1\nACGT\n@r2\nTTGA\n"))
	d := newDaemon(t)
	genomics, imaging := d.token("genomics", "admin"), d.token("imaging", "admin")
	d.start()
	const otherSecret = "imaging-secret-that-the-server-does-not-know"
	for _, c := range []struct{ tok, access, secret string }{
		{genomics, srv.AccessKey, srv.SecretKey}, {imaging, "IMAGINGKEY", otherSecret},
	} {
		body, _ := json.Marshal(map[string]any{"name": "site", "endpoint": srv.Endpoint, "buckets": []string{bucket},
			"access_key": c.access, "secret_key": c.secret})
		if status, out := d.request("POST", "/api/v1/s3-credentials", c.tok, body, "application/json"); status != 201 {
			t.Fatalf("adding S3 credentials: %d %s", status, out)
		}
		status, out := d.request("GET", "/api/v1/s3-credentials", c.tok, nil, "")
		if status != 200 || strings.Contains(string(out), c.secret) || strings.Contains(string(out), c.access) || !strings.Contains(string(out), `"site"`) {
			t.Errorf("listing S3 credentials: %d %s", status, out)
		}
	}
	dir := t.TempDir()
	tool := filepath.Join(dir, "count.cwl")
	os.WriteFile(tool, []byte(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: [wc, -l]
stdout: lines.txt
inputs:
  reads: {type: File, inputBinding: {position: 1}}
outputs:
  lines: stdout
`), 0o644)
	job := filepath.Join(dir, "job.yml")
	os.WriteFile(job, []byte(fmt.Sprintf("reads: {class: File, location: s3://%s/in/reads.fq}\n", bucket)), 0o644)

	code, stdout, stderr := flow(t, nil, "run", "--run_compute", "--quiet", "--compute_url", d.url, "--compute_access_token", genomics,
		"--outdir", filepath.Join(dir, "out"), tool, job)
	if code != 0 {
		t.Fatalf("genomics' run: exit %d\n%s\n%s", code, stderr, d.log.String())
	}
	if out, _ := os.ReadFile(filepath.Join(dir, "out", "lines.txt")); !strings.HasPrefix(strings.TrimSpace(string(out)), "4 ") {
		t.Errorf("genomics' output: %q (%s)", out, stdout)
	}
	code, _, stderr = flow(t, nil, "run", "--run_compute", "--quiet", "--compute_url", d.url, "--compute_access_token", imaging,
		"--outdir", filepath.Join(dir, "out2"), tool, job)
	want := fmt.Sprintf(`input "reads": s3://%s/in/reads.fq: forbidden`, bucket)
	if code == 0 || !strings.Contains(stderr, want) {
		t.Fatalf("imaging's run, with keys the server does not know: exit %d\n%s\nwant %q", code, stderr, want)
	}
	for _, secret := range []string{srv.SecretKey, otherSecret} {
		if strings.Contains(d.log.String(), secret) || strings.Contains(stderr, secret) {
			t.Errorf("a secret key is in the daemon's log or the client's stderr")
		}
		if f := grepTree(t, d.dataDir, secret); f != "" {
			t.Errorf("a secret key is in clear in %s", f)
		}
	}
}

// grepTree is the first file under root that holds s, or "".
func grepTree(t *testing.T, root, s string) string {
	t.Helper()
	found := ""
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || found != "" || !fi.Mode().IsRegular() {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), s) {
			found = p
		}
		return nil
	})
	return found
}
