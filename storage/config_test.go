package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigErrors: a storage.yaml that cannot be right is refused in
// one line naming the file and what is wrong.
func TestConfigErrors(t *testing.T) {
	cases := map[string]string{
		"s3:\n  - name: x\n    endpint: http://h\n":                                               "line 3: field endpint not found",
		"s3:\n  - name: x\n    credentials: {access_key_env: A}\n":                                "need both access_key_env and secret_key_env",
		"s3:\n  - name: x\n    credentials: {profile: p, access_key_env: A, secret_key_env: B}\n": "a profile or access_key_env/secret_key_env, not both",
		"s3: [\n": "did not find expected node content",
	}
	for yaml, want := range cases {
		p := filepath.Join(t.TempDir(), "storage.yaml")
		os.WriteFile(p, []byte(yaml), 0o600)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), p+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: err = %v; want one line starting with the file, containing %q", yaml, err, want)
		}
	}
}

// TestConfigPicksService: a bucket is served by the entry that lists it,
// else by the first entry that lists none; a missing file is the
// standard settings.
func TestConfigPicksService(t *testing.T) {
	cfg := writeConfig(t, "s3:\n  - name: site\n    endpoint: https://s3.site\n    buckets: [seq-core]\n  - name: rest\n")
	if s := cfg.service("seq-core"); s.Name != "site" {
		t.Errorf("seq-core served by %q", s.Name)
	}
	if s := cfg.service("other"); s.Name != "rest" {
		t.Errorf("other served by %q", s.Name)
	}
	c, err := LoadConfig(filepath.Join(t.TempDir(), "none.yaml"))
	if err != nil || len(c.S3) != 0 {
		t.Errorf("a missing file: %v, %+v", err, c)
	}
}
