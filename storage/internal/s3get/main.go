// Command s3get moves one object between a file and an S3 server with
// the AWS SDK's own transfer manager, nothing of flow's: the baseline
// scripts/bench-s3 holds flow's download to, and how it puts its test
// object in place.
//
//	s3get get s3://bucket/key FILE
//	s3get put FILE s3://bucket/key   # in one request, so that the server keeps a whole-object checksum
//	s3get rm s3://bucket/key
//
// The server and keys come from FLOW_TEST_S3_ENDPOINT,
// FLOW_TEST_S3_ACCESS_KEY and FLOW_TEST_S3_SECRET_KEY.
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "s3get:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 || len(args) > 3 {
		return fmt.Errorf("usage: s3get get s3://bucket/key FILE | s3get put FILE s3://bucket/key | s3get rm s3://bucket/key")
	}
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(os.Getenv("FLOW_TEST_S3_ENDPOINT")),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(os.Getenv("FLOW_TEST_S3_ACCESS_KEY"), os.Getenv("FLOW_TEST_S3_SECRET_KEY"), ""),
	})
	tm := transfermanager.New(c)
	ctx := context.Background()
	switch args[0] {
	case "get":
		bucket, key, err := split(args[1])
		if err != nil {
			return err
		}
		f, err := os.Create(args[2])
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{Bucket: &bucket, Key: &key, WriterAt: f})
		return err
	case "put":
		bucket, key, err := split(args[2])
		if err != nil {
			return err
		}
		c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}) // may exist
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: f})
		return err
	case "rm":
		bucket, key, err := split(args[1])
		if err != nil {
			return err
		}
		_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
		return err
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func split(raw string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" {
		return "", "", fmt.Errorf("%q is not s3://bucket/key", raw)
	}
	return u.Host, strings.TrimPrefix(u.Path, "/"), nil
}
