package storage

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// s3Backend serves s3://bucket/key URLs with the AWS SDK, one client per
// configured service (endpoint, region, credentials).
type s3Backend struct {
	cfg  *Config
	http *http.Client // trusts the configured CA file

	mu      sync.Mutex
	clients map[string]*s3.Client // by service name
}

// bucketKey splits s3://bucket/key.
func bucketKey(u *url.URL) (string, string) {
	return u.Host, strings.TrimPrefix(u.Path, "/")
}

// client is the SDK client for the service that serves bucket.
func (b *s3Backend) client(ctx context.Context, bucket string) (*s3.Client, error) {
	svc := b.cfg.service(bucket)
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.clients[svc.Name]; ok {
		return c, nil
	}
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.TLSClientConfig = b.http.Transport.(*http.Transport).TLSClientConfig.Clone()
		t.ResponseHeaderTimeout = time.Minute // a server that accepts but never answers
		t.MaxIdleConnsPerHost = 16            // the parallel ranges of a download
	}))}
	if svc.Region != "" {
		opts = append(opts, config.WithRegion(svc.Region))
	}
	cr := svc.Credentials
	switch {
	case cr.accessKey != "":
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cr.accessKey, cr.secretKey, "")))
	case cr.AccessKeyEnv != "":
		ak, sk := os.Getenv(cr.AccessKeyEnv), os.Getenv(cr.SecretKeyEnv)
		if ak == "" || sk == "" {
			return nil, fmt.Errorf("S3 service %s: credentials: $%s and $%s must both be set", svc.Name, cr.AccessKeyEnv, cr.SecretKeyEnv)
		}
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, sk, "")))
	case cr.Profile != "":
		opts = append(opts, config.WithSharedConfigProfile(cr.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("S3 service %s: %v", svc.Name, err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1" // S3-compatible services rarely care
	}
	c := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		// Quiet: the SDK's notes go to stderr, outside flow's log.
		o.Logger = logging.Nop{}
		o.ClientLogMode = 0
		if svc.Endpoint != "" {
			// A site's own service: path-style, since its DNS seldom
			// has a name per bucket.
			o.BaseEndpoint = aws.String(svc.Endpoint)
			o.UsePathStyle = true
		} else if o.BaseEndpoint != nil { // AWS_ENDPOINT_URL(_S3)
			o.UsePathStyle = true
		}
	})
	b.clients[svc.Name] = c
	return c, nil
}

func (b *s3Backend) Stat(ctx context.Context, u *url.URL) (Info, error) {
	bucket, key := bucketKey(u)
	c, err := b.client(ctx, bucket)
	if err != nil {
		return Info{}, err
	}
	out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key, ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		err = s3Error(err)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) {
			// A HEAD answer has no body to say why; a one-byte GET's
			// does (an unknown key, no such bucket, no such object).
			if r, gerr := b.Open(ctx, u, 0, 1); gerr != nil {
				return Info{}, gerr
			} else {
				r.Close()
			}
		}
		return Info{}, err
	}
	return Info{
		Size:      aws.ToInt64(out.ContentLength),
		ETag:      aws.ToString(out.ETag),
		ModTime:   aws.ToTime(out.LastModified),
		SHA1:      objectSHA1(out),
		CRC64NVME: wholeObject(out, out.ChecksumCRC64NVME),
		CRC32:     wholeObject(out, out.ChecksumCRC32),
		CRC32C:    wholeObject(out, out.ChecksumCRC32C),
		Ranges:    true,
	}, nil
}

// wholeObject is a checksum S3 gave, if it is of the whole object rather
// than a checksum of its parts' checksums.
func wholeObject(out *s3.HeadObjectOutput, sum *string) string {
	v := aws.ToString(sum)
	if strings.Contains(v, "-") || out.ChecksumType == s3types.ChecksumTypeComposite {
		return ""
	}
	return v
}

// objectSHA1 is the hex SHA-1 of an object: the one the server computed
// as it received it (x-amz-checksum-sha1, when of the whole object, not
// of its parts), else the one flow stored with it.
func objectSHA1(out *s3.HeadObjectOutput) string {
	if b64 := aws.ToString(out.ChecksumSHA1); b64 != "" && !strings.Contains(b64, "-") && out.ChecksumType != s3types.ChecksumTypeComposite {
		if raw, err := base64.StdEncoding.DecodeString(b64); err == nil && len(raw) == sha1.Size {
			return hex.EncodeToString(raw)
		}
	}
	return out.Metadata["sha1"]
}

func (b *s3Backend) Open(ctx context.Context, u *url.URL, offset, length int64) (io.ReadCloser, error) {
	bucket, key := bucketKey(u)
	c, err := b.client(ctx, bucket)
	if err != nil {
		return nil, err
	}
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	if r := rangeHeader(offset, length); r != "" {
		in.Range = &r
	}
	out, err := c.GetObject(ctx, in)
	if err != nil {
		return nil, s3Error(err)
	}
	return out.Body, nil
}

func (b *s3Backend) List(ctx context.Context, u *url.URL) ([]Info, error) {
	bucket, prefix := bucketKey(u)
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	c, err := b.client(ctx, bucket)
	if err != nil {
		return nil, err
	}
	var infos []Info
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s3Error(err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			if name == "" || strings.HasSuffix(name, "/") { // folder markers
				continue
			}
			infos = append(infos, Info{Name: name, Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag), ModTime: aws.ToTime(o.LastModified), Ranges: true})
		}
	}
	if len(infos) == 0 {
		return nil, ErrNotFound // S3 has no empty prefixes
	}
	return infos, nil
}

// Put uploads path with the SDK's transfer manager (multipart, in
// parallel, for large files), the server checking each part's SHA-1.
func (b *s3Backend) Put(ctx context.Context, u *url.URL, path string, meta PutMeta) error {
	bucket, key := bucketKey(u)
	c, err := b.client(ctx, bucket)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tm := transfermanager.New(c)
	_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket:            &bucket,
		Key:               &key,
		Body:              f,
		ChecksumAlgorithm: types.ChecksumAlgorithmSha1,
		Metadata:          map[string]string{"sha1": meta.SHA1},
	})
	if err != nil {
		return s3Error(err)
	}
	return nil
}

// s3Error says what an SDK error means to a user, keeping the service's
// error code (never a credential: the SDK puts none in its errors).
func s3Error(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var api smithy.APIError
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var signing *v4.SigningError
	switch {
	case errors.As(err, &signing) || strings.Contains(err.Error(), "get identity: "):
		// The SDK found no keys to sign with (it says so only in its
		// message): nothing was sent, and the chain's last resort (the
		// EC2 metadata service) is no help to say why.
		return fmt.Errorf("%w: no S3 credentials for it (storage.yaml, AWS_ACCESS_KEY_ID, AWS_PROFILE or ~/.aws)", ErrForbidden)
	case code == "InvalidAccessKeyId" || code == "XAdminUserNotFound":
		return fmt.Errorf("%w: the server knows no such access key", ErrForbidden)
	case code == "SignatureDoesNotMatch":
		return fmt.Errorf("%w: the secret key does not match the access key", ErrForbidden)
	case code == "NoSuchBucket":
		return fmt.Errorf("%w (no such bucket)", ErrNotFound)
	case status == 404 || code == "NoSuchKey" || code == "NotFound":
		return ErrNotFound
	case status == 403 || code == "AccessDenied":
		return ErrForbidden
	case status == 0:
		return fmt.Errorf("%w: %v", ErrUnreachable, rootCause(err))
	}
	return fmt.Errorf("S3 error %d %s", status, code)
}

// rootCause is the network error under the SDK's layers of context
// (which name the endpoint), else the innermost error.
func rootCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// rangeHeader is an HTTP Range for length bytes from offset; "" for all.
func rangeHeader(offset, length int64) string {
	switch {
	case length < 0 && offset == 0:
		return ""
	case length < 0:
		return fmt.Sprintf("bytes=%d-", offset)
	}
	return fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)
}
