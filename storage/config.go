package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is storage.yaml: which S3 services serve which buckets, with
// which credentials, and which CA certificates HTTPS servers may use.
//
//	s3:
//	  - name: site-ceph
//	    endpoint: https://s3.site.example   # empty for AWS
//	    region: us-east-1
//	    buckets: [seq-core, results-bucket]
//	    credentials: {profile: lab}         # or access_key_env / secret_key_env
//	https:
//	  ca_file: /etc/ssl/site-ca.pem         # trusted besides the system's CAs
type Config struct {
	S3    []S3Service `yaml:"s3"`
	HTTPS struct {
		CAFile string `yaml:"ca_file"`
	} `yaml:"https"`
	file string // where it was read from, for messages
}

// S3Service is one S3-compatible service and the buckets it serves.
type S3Service struct {
	Name        string      `yaml:"name"`
	Endpoint    string      `yaml:"endpoint"`
	Region      string      `yaml:"region"`
	Buckets     []string    `yaml:"buckets"`
	Credentials Credentials `yaml:"credentials"`
}

// Credentials say where an S3 service's keys come from: a profile of the
// shared AWS files, two environment variables, or (all empty) the SDK's
// standard chain. The file never holds the keys themselves.
type Credentials struct {
	Profile      string `yaml:"profile"`
	AccessKeyEnv string `yaml:"access_key_env"`
	SecretKeyEnv string `yaml:"secret_key_env"`

	// Keys given in memory (flowd, from a team's sealed store); never
	// read from or written to a file.
	accessKey, secretKey string
}

// StaticCredentials are keys held in memory, for a caller that unsealed
// them itself.
func StaticCredentials(accessKey, secretKey string) Credentials {
	return Credentials{accessKey: accessKey, secretKey: secretKey}
}

// ConfigVar names another storage.yaml than the default (flowd gives
// each team's runs the team's own).
const ConfigVar = "FLOW_STORAGE_CONFIG"

// DefaultConfigPath is $FLOW_STORAGE_CONFIG, or else
// $XDG_CONFIG_HOME/flow/storage.yaml.
func DefaultConfigPath() string {
	if p := os.Getenv(ConfigVar); p != "" {
		return p
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "flow", "storage.yaml")
}

// LoadConfig reads storage.yaml at path; a missing file is an empty
// configuration (the standard AWS chain, the system's CAs).
func LoadConfig(path string) (*Config, error) {
	c := &Config{file: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage configuration: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		// One line: yaml.v3 lists its errors on lines of their own.
		msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
		msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " ")
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(msg, "yaml: "))
	}
	return c, c.check()
}

func (c *Config) check() error {
	for i, s := range c.S3 {
		cr := s.Credentials
		if (cr.AccessKeyEnv == "") != (cr.SecretKeyEnv == "") {
			return fmt.Errorf("%s: s3[%d] (%s): credentials need both access_key_env and secret_key_env", c.file, i, s.Name)
		}
		if cr.Profile != "" && cr.AccessKeyEnv != "" {
			return fmt.Errorf("%s: s3[%d] (%s): credentials take a profile or access_key_env/secret_key_env, not both", c.file, i, s.Name)
		}
	}
	if f := c.HTTPS.CAFile; f != "" && !filepath.IsAbs(f) {
		c.HTTPS.CAFile = filepath.Join(filepath.Dir(c.file), f)
	}
	return nil
}

// service is the S3 service that serves bucket: the first that lists it,
// else the first that lists no buckets, else the standard AWS settings.
func (c *Config) service(bucket string) S3Service {
	for _, s := range c.S3 {
		if slices.Contains(s.Buckets, bucket) {
			return s
		}
	}
	for _, s := range c.S3 {
		if len(s.Buckets) == 0 {
			return s
		}
	}
	return S3Service{Name: "default"}
}
