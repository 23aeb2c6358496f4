package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProvJSON(t *testing.T) {
	f := newFixture(t)
	r := flowIn(t, "prov", r1, "--format", "prov-json", "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if _, ok := doc["activity"]; !ok || !strings.Contains(r.stdout, r1) {
		t.Errorf("PROV-JSON has no activity for run %s:\n%s", r1, r.stdout)
	}

	// -o FILE: the same document in a file, nothing on stdout.
	out := filepath.Join(t.TempDir(), "run.prov.json")
	r = flowIn(t, "prov", r1, "--format", "prov-json", "-o", out, "--db", f.db)
	data, err := os.ReadFile(out)
	if r.code != 0 || err != nil || r.stdout != "" || !json.Valid(data) {
		t.Errorf("prov -o FILE: exit %d, stdout %q, file %v, valid JSON %v", r.code, r.stdout, err, json.Valid(data))
	}
}

func TestProvROCrate(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "crate")
	r := flowIn(t, "prov", r2, "--format", "ro-crate", "-o", dir, "--db", f.db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "ro-crate-metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Graph []map[string]any `json:"@graph"`
	}
	if err := json.Unmarshal(data, &meta); err != nil || len(meta.Graph) == 0 {
		t.Errorf("ro-crate-metadata.json is not a crate (%v):\n%s", err, data)
	}
}

func TestProvUsage(t *testing.T) {
	f := newFixture(t)
	cases := map[string][]string{
		"needs --format ro-crate or --format prov-json": {"prov", r1},
		"needs -o DIR":       {"prov", r1, "--format", "ro-crate"},
		"takes one argument": {"prov", "--format", "prov-json"},
	}
	for msg, args := range cases {
		r := flowIn(t, append(args, "--db", f.db)...)
		if r.code != 2 || !strings.Contains(r.stderr, msg) {
			t.Errorf("flow %q: exit %d, stderr %q; want 2 and %q", args, r.code, r.stderr, msg)
		}
	}
	if r := flowIn(t, "prov", "2027", "--format", "prov-json", "--db", f.db); r.code != 1 || r.stderr != "flow: no run matches \"2027\"\n" {
		t.Errorf("prov of an unknown run: exit %d, stderr %q", r.code, r.stderr)
	}
}
