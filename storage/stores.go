package storage

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Stores picks the backend for a URL by its scheme, all sharing one
// configuration and one HTTP client.
type Stores struct {
	cfg  *Config
	http *httpBackend
	s3   *s3Backend
}

// New makes the backends that cfg describes.
func New(cfg *Config) (*Stores, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	client, err := newHTTPClient(cfg.HTTPS.CAFile)
	if err != nil {
		return nil, err
	}
	return &Stores{
		cfg:  cfg,
		http: &httpBackend{client: client},
		s3:   &s3Backend{cfg: cfg, http: client, clients: map[string]*s3.Client{}},
	}, nil
}

// Open loads storage.yaml from its default place and makes the backends.
func Open() (*Stores, error) {
	cfg, err := LoadConfig(DefaultConfigPath())
	if err != nil {
		return nil, err
	}
	return New(cfg)
}

// For is the backend that serves raw (an absolute URL) and the parsed URL.
func (s *Stores) For(raw string) (Backend, *url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	switch u.Scheme {
	case "s3":
		if u.Host == "" {
			return nil, nil, fmt.Errorf("%s names no bucket (s3://BUCKET/KEY)", raw)
		}
		return s.s3, u, nil
	case "http", "https":
		return s.http, u, nil
	case "file":
		return localBackend{}, u, nil
	}
	return nil, nil, fmt.Errorf("%s: flow cannot read %s:// locations (it reads local files, http(s):// and s3://)", Redact(u), u.Scheme)
}

// HTTPClient is the client that trusts the configured CAs.
func (s *Stores) HTTPClient() *http.Client { return s.http.client }
