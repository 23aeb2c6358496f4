package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flow-cwl/flow/internal/s3test"
	"github.com/flow-cwl/flow/internal/testcluster"
)

// storageEnv is a user's environment for the S3 tests: storage.yaml
// sends every bucket to the test S3 server with keys from two
// environment variables (access and secret), and trusts caFile for HTTPS.
func storageEnv(t *testing.T, srv *s3test.S3, access, secret, caFile string) []string {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf("s3:\n  - name: test\n    endpoint: %s\n    credentials: {access_key_env: LAB_S3_KEY, secret_key_env: LAB_S3_SECRET}\n", srv.Endpoint)
	if caFile != "" {
		conf += "https:\n  ca_file: " + caFile + "\n"
	}
	os.MkdirAll(filepath.Join(dir, "config", "flow"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "config", "flow", "storage.yaml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"LAB_S3_KEY=" + access, "LAB_S3_SECRET=" + secret,
	}
}

func writeRemoteJob(t *testing.T, job string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inputs.yml")
	if err := os.WriteFile(p, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRemoteInputsAndS3Outdir: a File over HTTPS and a Directory from an
// S3 prefix feed a tool whose outputs go to an s3:// --outdir, with
// s3:// locations in the output object; the same run again downloads
// nothing and uploads nothing.
func TestRemoteInputsAndS3Outdir(t *testing.T) {
	srv := s3test.Server(t)
	in, out := srv.Bucket(t), srv.Bucket(t)
	srv.Put(t, in, "run42/s1.fq", []byte("@r1\nACGT\n"))
	srv.Put(t, in, "run42/sub/s2.fq", []byte("@r2\nGGCC\n"))
	ref := []byte(strings.Repeat(">chr1\nACGTACGT\n", 1000))
	var refGets atomic.Int64
	https, caFile := s3test.HTTPS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/records/123/ref.fa" {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodGet {
			refGets.Add(1)
		}
		w.Header().Set("ETag", `"ref-v1"`)
		w.Write(ref)
	}))
	env := storageEnv(t, srv, srv.AccessKey, srv.SecretKey, caFile)
	job := writeRemoteJob(t, fmt.Sprintf("reads: {class: File, location: %s/records/123/ref.fa}\nsamples: {class: Directory, location: s3://%s/run42/}\n", https.URL, in))
	outdir := "s3://" + out + "/project7/"
	r := flowEnv(t, env, "run", "--outdir", outdir, "testdata/storage/count.cwl", job)
	if r.code != 0 {
		t.Fatalf("flow run: exit %d\n%s", r.code, r.stderr)
	}
	var obj map[string]map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if loc := obj["count"]["location"]; loc != outdir+"count.txt" {
		t.Errorf("count's location is %v, want %scount.txt", loc, outdir)
	}
	if got, _ := srv.Get(t, out, "project7/count.txt"); strings.TrimSpace(string(got)) != fmt.Sprint(len(ref)) {
		t.Errorf("count.txt in S3 holds %q, want %d", got, len(ref))
	}
	if got, _ := srv.Get(t, out, "project7/listing.txt"); string(got) != "./s1.fq\n./sub/s2.fq\n" {
		t.Errorf("listing.txt in S3 holds %q", got)
	}
	gets, puts, httpGets := srv.Requests(t, "GetObject", in), srv.Requests(t, "PutObject", out), refGets.Load()
	if gets == 0 || puts == 0 || httpGets == 0 {
		t.Fatalf("the server's access log shows %d GETs and %d PUTs for the first run", gets, puts)
	}
	r = flowEnv(t, env, "run", "--outdir", outdir, "testdata/storage/count.cwl", job)
	if r.code != 0 {
		t.Fatalf("second flow run: exit %d\n%s", r.code, r.stderr)
	}
	if n := refGets.Load() - httpGets; n != 0 {
		t.Errorf("the second run sent %d GETs to the HTTPS server", n)
	}
	if gets >= 0 {
		if n := srv.Requests(t, "GetObject", in) - gets; n != 0 {
			t.Errorf("the second run sent %d GETs to the input bucket", n)
		}
		if n := srv.Requests(t, "PutObject", out) - puts; n != 0 {
			t.Errorf("the second run uploaded %d objects again", n)
		}
	}
}

// TestRemoteInputErrors: each way a remote input can fail is one line
// naming the input, its URL and the reason, and never the secret.
func TestRemoteInputErrors(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "run42/s1.fq", []byte("@r1\nACGT\n"))
	// /cut.fa says it has 1 MB and drops the connection after 1000 bytes,
	// every time; anything else is 404.
	https, caFile := s3test.HTTPS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cut.fa" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", "1000000")
		w.Header().Set("Accept-Ranges", "bytes")
		if r.Method == http.MethodHead {
			return
		}
		w.WriteHeader(http.StatusPartialContent)
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	dir := fmt.Sprintf("samples: {class: Directory, location: s3://%s/run42/}\n", bucket)
	cases := []struct {
		name, job, secret, want string
	}{
		{"missing key", fmt.Sprintf("reads: {class: File, location: s3://%s/run42/nope.fq}\n", bucket) + dir, srv.SecretKey,
			fmt.Sprintf(`input "reads": s3://%s/run42/nope.fq: not found`, bucket)},
		{"404 URL", fmt.Sprintf("reads: {class: File, location: %s/ref.fa}\n", https.URL) + dir, srv.SecretKey,
			fmt.Sprintf(`input "reads": %s/ref.fa: not found`, https.URL)},
		{"dropped mid-object", fmt.Sprintf("reads: {class: File, location: %s/cut.fa}\n", https.URL) + dir, srv.SecretKey,
			fmt.Sprintf(`input "reads": %s/cut.fa: the connection was cut 4 times`, https.URL)},
		{"HTTPS directory", fmt.Sprintf("reads: {class: File, location: s3://%s/run42/s1.fq}\nsamples: {class: Directory, location: %s/dir/}\n", bucket, https.URL), srv.SecretKey,
			fmt.Sprintf(`input "samples": %s/dir/: an HTTP server cannot list a directory`, https.URL)},
		{"wrong credentials", fmt.Sprintf("reads: {class: File, location: s3://%s/run42/s1.fq}\n", bucket) + dir, "not-the-secret-42",
			fmt.Sprintf(`input "reads": s3://%s/run42/s1.fq: forbidden`, bucket)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := storageEnv(t, srv, srv.AccessKey, c.secret, caFile)
			r := flowEnv(t, env, "run", "testdata/storage/count.cwl", writeRemoteJob(t, c.job))
			lines := stderrLines(r.stderr)
			if r.code == 0 || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant one line containing %q", r.code, r.stderr, c.want)
			}
			if strings.Contains(r.stderr, c.secret) {
				t.Errorf("the secret appears in the error")
			}
		})
	}
}

// TestS3OutdirResume: an upload that fails (the bucket is missing) fails
// the run with the command that resumes it; once the bucket exists, the
// resumed run uploads the outputs. An object deleted since is the only
// one a later run sends again.
func TestS3OutdirResume(t *testing.T) {
	srv := s3test.Server(t)
	in := srv.Bucket(t)
	srv.Put(t, in, "run42/s1.fq", []byte("@r1\nACGT\n"))
	srv.Put(t, in, "reads.fq", []byte("@r9\nTTTT\n"))
	env := storageEnv(t, srv, srv.AccessKey, srv.SecretKey, "")
	job := writeRemoteJob(t, fmt.Sprintf("reads: {class: File, location: s3://%s/reads.fq}\nsamples: {class: Directory, location: s3://%s/run42}\n", in, in))
	out := fmt.Sprintf("flow-test-later-%d", os.Getpid())
	r := flowEnv(t, env, "run", "--outdir", "s3://"+out+"/p/", "testdata/storage/count.cwl", job)
	lines := stderrLines(r.stderr)
	last := lines[len(lines)-1]
	if r.code == 0 || !strings.Contains(last, "no such bucket") || !strings.Contains(last, "to continue: flow run --resume ") {
		t.Fatalf("exit %d, stderr:\n%s\nwant a last line saying the bucket is missing and how to continue", r.code, r.stderr)
	}
	id := strings.TrimSuffix(last[strings.LastIndex(last, " ")+1:], ")")
	if _, err := srv.Client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &out}); err != nil {
		t.Fatal(err)
	}
	r = flowEnv(t, env, "run", "--resume", id)
	if r.code != 0 {
		t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
	}
	if got, ok := srv.Get(t, out, "p/listing.txt"); !ok || string(got) != "./s1.fq\n" {
		t.Fatalf("after the resume, listing.txt holds %q (present: %v)", got, ok)
	}
	if _, err := srv.Client.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: &out, Key: aws.String("p/listing.txt")}); err != nil {
		t.Fatal(err)
	}
	puts := srv.Requests(t, "PutObject", out)
	r = flowEnv(t, env, "run", "--outdir", "s3://"+out+"/p/", "testdata/storage/count.cwl", job)
	if r.code != 0 {
		t.Fatalf("third run: exit %d\n%s", r.code, r.stderr)
	}
	if _, ok := srv.Get(t, out, "p/listing.txt"); !ok {
		t.Error("the deleted output was not uploaded again")
	}
	if n := srv.Requests(t, "PutObject", out) - puts; puts >= 0 && n != 1 {
		t.Errorf("the third run sent %d objects; want 1, the missing one", n)
	}
}

// TestS3OnUnsharedCluster: with --run_compute on a cluster that does not
// share flow's files, S3 inputs reach the job over SFTP (the cluster's
// user cannot read flow's download cache) and the outputs come back to S3.
func TestS3OnUnsharedCluster(t *testing.T) {
	c := testcluster.Require(t)
	srv := s3test.Server(t)
	cfg, _ := unsharedConfig(t, c)
	in, out := srv.Bucket(t), srv.Bucket(t)
	reads := []byte(strings.Repeat("@r\nACGT\n", 5000))
	srv.Put(t, in, "reads.fq", reads)
	srv.Put(t, in, "run42/a.fq", []byte("@a\n"))
	srv.Put(t, in, "run42/deep/b.fq", []byte("@b\n"))
	env := storageEnv(t, srv, srv.AccessKey, srv.SecretKey, "")
	job := writeRemoteJob(t, fmt.Sprintf("reads: {class: File, location: s3://%s/reads.fq}\nsamples: {class: Directory, location: s3://%s/run42/}\n", in, in))
	r := flowEnv(t, env, "run", "--run_compute", "--cluster", "test", "--compute-config", cfg,
		"--outdir", "s3://"+out+"/hpc/", "testdata/storage/count.cwl", job)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if got, _ := srv.Get(t, out, "hpc/count.txt"); strings.TrimSpace(string(got)) != fmt.Sprint(len(reads)) {
		t.Errorf("count.txt in S3 holds %q, want %d", got, len(reads))
	}
	if got, _ := srv.Get(t, out, "hpc/listing.txt"); string(got) != "./a.fq\n./deep/b.fq\n" {
		t.Errorf("listing.txt in S3 holds %q", got)
	}
}

// TestValidateChecksRemoteInputs: flow validate DOCUMENT JOB says which
// remote input is missing, and passes when all exist, fetching nothing.
func TestValidateChecksRemoteInputs(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "run42/a.fq", []byte("@a\n"))
	srv.Put(t, bucket, "reads.fq", []byte("@r\n"))
	env := storageEnv(t, srv, srv.AccessKey, srv.SecretKey, "")
	dir := fmt.Sprintf("samples: {class: Directory, location: s3://%s/run42/}\n", bucket)
	good := writeRemoteJob(t, fmt.Sprintf("reads: {class: File, location: s3://%s/reads.fq}\n", bucket)+dir)
	r := flowEnv(t, env, "validate", "testdata/storage/count.cwl", good)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if gets := srv.Requests(t, "GetObject", bucket); gets > 0 {
		t.Errorf("validate downloaded (%d GETs)", gets)
	}
	bad := writeRemoteJob(t, fmt.Sprintf("reads: {class: File, location: s3://%s/gone.fq}\n", bucket)+dir)
	r = flowEnv(t, env, "validate", "testdata/storage/count.cwl", bad)
	want := fmt.Sprintf(`inputs.yml:1:8: input "reads": s3://%s/gone.fq: not found`, bucket)
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant %q", r.code, r.stderr, want)
	}
}

// TestDataCopyToCluster: flow data copy puts an S3 object, and a prefix's
// objects, at a path on the cluster over SFTP (as the cluster's user),
// and a second copy of the same object downloads nothing.
func TestDataCopyToCluster(t *testing.T) {
	c := testcluster.Require(t)
	srv := s3test.Server(t)
	cfg, workdir := unsharedConfig(t, c)
	bucket := srv.Bucket(t)
	srv.Put(t, bucket, "ref/genome.fa", []byte(">chr1\nACGT\n"))
	srv.Put(t, bucket, "run42/a.fq", []byte("@a\n"))
	srv.Put(t, bucket, "run42/deep/b.fq", []byte("@b\n"))
	env := storageEnv(t, srv, srv.AccessKey, srv.SecretKey, "")
	scratch := workdir + "/scratch"
	r := flowEnv(t, env, "data", "copy", "s3://"+bucket+"/ref/genome.fa", "--cluster", "test", "--compute-config", cfg, "--to", scratch)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if got, err := os.ReadFile(filepath.Join(scratch, "genome.fa")); err != nil || string(got) != ">chr1\nACGT\n" {
		t.Fatalf("on the cluster: %q, %v", got, err)
	}
	r = flowEnv(t, env, "data", "copy", "s3://"+bucket+"/run42/", "--cluster", "test", "--compute-config", cfg, "--to", scratch)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(scratch, "run42", "deep", "b.fq")); string(got) != "@b\n" {
		t.Errorf("run42/deep/b.fq on the cluster holds %q", got)
	}
	gets := srv.Requests(t, "GetObject", bucket)
	r = flowEnv(t, env, "data", "copy", "s3://"+bucket+"/ref/genome.fa", "--cluster", "test", "--compute-config", cfg, "--to", scratch+"/again")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if n := srv.Requests(t, "GetObject", bucket) - gets; gets >= 0 && n != 0 {
		t.Errorf("the second copy of the same object sent %d GETs", n)
	}
	if _, err := os.Stat(filepath.Join(scratch, "again", "genome.fa")); err != nil {
		t.Error(err)
	}
}

// TestRemoteSecondaryFiles: the secondaryFiles patterns of an input are
// resolved beside an s3:// or https:// primary, as beside a local one:
// the files they name come from the same store and are staged beside the
// primary; an optional one that is absent is left out; a required one
// that is absent fails the run in one line naming the input, the URL and
// the pattern, and so does flow validate.
func TestRemoteSecondaryFiles(t *testing.T) {
	srv := s3test.Server(t)
	bucket := srv.Bucket(t)
	for name, body := range map[string]string{"x.bam": "B", "x.bam.bai": "I", "x.fai": "F", "y.bam": "Y", "y.fai": "YF"} {
		srv.Put(t, bucket, "run42/"+name, []byte(body))
	}
	https, caFile := s3test.HTTPS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := map[string]string{"/f/x.bam": "B", "/f/x.bam.bai": "I", "/f/x.fai": "F", "/f/x.bam.idx": "X"}[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	env := storageEnv(t, srv, srv.AccessKey, srv.SecretKey, caFile)
	staged := func(t *testing.T, job string) string {
		t.Helper()
		r := flowEnv(t, env, "run", "--outdir", t.TempDir(), "testdata/storage/secondary.cwl", writeRemoteJob(t, job))
		if r.code != 0 {
			t.Fatalf("flow run: exit %d\n%s", r.code, r.stderr)
		}
		var obj map[string]map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		got, err := os.ReadFile(obj["staged"]["path"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return string(got)
	}
	t.Run("s3", func(t *testing.T) {
		got := staged(t, fmt.Sprintf("bam: {class: File, location: s3://%s/run42/x.bam}\n", bucket))
		if want := "x.bam B\nx.bam.bai I\nx.fai F\n"; got != want {
			t.Errorf("staged beside the input:\n%s\nwant (no .idx, which is optional and absent):\n%s", got, want)
		}
	})
	t.Run("https", func(t *testing.T) {
		got := staged(t, fmt.Sprintf("bam: {class: File, location: %s/f/x.bam}\n", https.URL))
		if want := "x.bam B\nx.bam.bai I\nx.bam.idx X\nx.fai F\n"; got != want {
			t.Errorf("staged beside the input:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("required missing", func(t *testing.T) {
		job := writeRemoteJob(t, fmt.Sprintf("bam: {class: File, location: s3://%s/run42/y.bam}\n", bucket))
		want := fmt.Sprintf(`input "bam": s3://%s/run42/y.bam.bai: secondary file (pattern ".bai"): not found`, bucket)
		for _, args := range [][]string{{"run", "testdata/storage/secondary.cwl", job}, {"validate", "testdata/storage/secondary.cwl", job}} {
			r := flowEnv(t, env, args...)
			lines := stderrLines(r.stderr)
			if r.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], want) {
				t.Errorf("flow %s: exit %d, stderr:\n%s\nwant exit 1 and one line containing %q", args[0], r.code, r.stderr, want)
			}
		}
	})
}
