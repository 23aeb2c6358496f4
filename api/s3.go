package api

import "time"

// S3CredentialRequest gives the daemon a team's keys for an S3 service
// (POST /api/v1/s3-credentials). The keys are sealed at once and never
// returned.
type S3CredentialRequest struct {
	Name      string   `json:"name"`
	Endpoint  string   `json:"endpoint,omitempty"` // empty for AWS
	Region    string   `json:"region,omitempty"`
	Buckets   []string `json:"buckets,omitempty"` // empty: every bucket no other entry lists
	AccessKey string   `json:"access_key"`
	SecretKey string   `json:"secret_key"`
}

// S3Credential is one of a team's S3 settings as listed: no keys, only
// the start of the access key ID.
type S3Credential struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Endpoint      string    `json:"endpoint,omitempty"`
	Region        string    `json:"region,omitempty"`
	Buckets       []string  `json:"buckets,omitempty"`
	AccessKeyHint string    `json:"access_key_hint"`
	Created       time.Time `json:"created"`
}
