// Package s3test gives tests the real servers flow's storage talks to:
// the S3 server that scripts/test starts (versitygw with its POSIX
// backend, found through FLOW_TEST_S3_* variables), and HTTPS servers
// with a certificate from a test CA made on the spot. Without the S3
// server a test skips, or fails in CI (testenv.SkipOrFail).
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flow-cwl/flow/internal/testenv"
)

// The variables scripts/test sets for the S3 server it started.
const (
	EndpointVar  = "FLOW_TEST_S3_ENDPOINT"
	AccessKeyVar = "FLOW_TEST_S3_ACCESS_KEY"
	SecretKeyVar = "FLOW_TEST_S3_SECRET_KEY"
	AccessLogVar = "FLOW_TEST_S3_ACCESS_LOG" // its access log: one line per request
)

// S3 is the test S3 server.
type S3 struct {
	Endpoint, AccessKey, SecretKey string
	Client                         *s3.Client
}

// Server is the S3 server of scripts/test, or ends the test.
func Server(t testing.TB) *S3 {
	t.Helper()
	s := &S3{Endpoint: os.Getenv(EndpointVar), AccessKey: os.Getenv(AccessKeyVar), SecretKey: os.Getenv(SecretKeyVar)}
	if s.Endpoint == "" || s.AccessKey == "" || s.SecretKey == "" {
		testenv.SkipOrFail(t, "no S3 server: scripts/test starts one (versitygw) and sets "+EndpointVar+", "+AccessKeyVar+" and "+SecretKeyVar)
	}
	s.Client = s.ClientWith(s.AccessKey, s.SecretKey)
	return s
}

// ClientWith is an SDK client of the server with these keys.
func (s *S3) ClientWith(access, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(access, secret, ""),
	})
}

// Bucket makes a bucket with a fresh name for this test.
func (s *S3) Bucket(t testing.TB) string {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	name := "flow-test-" + hex.EncodeToString(b[:])
	if _, err := s.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	return name
}

// Put stores data as bucket/key.
func (s *S3) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	_, err := s.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("putting s3://%s/%s: %v", bucket, key, err)
	}
}

// Get reads bucket/key; ok is false if there is no such object.
func (s *S3) Get(t testing.TB, bucket, key string) ([]byte, bool) {
	t.Helper()
	out, err := s.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") {
			return nil, false
		}
		t.Fatalf("getting s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data, true
}

// Requests counts the requests of an S3 operation (GetObject,
// PutObject, ...) on bucket that the server's access log shows; -1 if it
// keeps no log. (versitygw's lines: "owner bucket [time] ip requester
// id s3_Operation key uri status ...".)
func (s *S3) Requests(t testing.TB, op, bucket string) int {
	t.Helper()
	p := os.Getenv(AccessLogVar)
	if p == "" {
		return -1
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 7 && f[1] == bucket && slices.Contains(f, "s3_"+op) {
			n++
		}
	}
	return n
}
