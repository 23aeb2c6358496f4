package singularity

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for out, want := range map[string]Runtime{
		"apptainer version 1.2.5-1.el8\n":     {Name: "apptainer", Version: "1.2.5-1.el8"},
		"singularity-ce version 3.11.4-jammy": {Name: "singularity", Version: "3.11.4-jammy"},
		"singularity version 3.8.7-1.el7":     {Name: "singularity", Version: "3.8.7-1.el7"},
	} {
		name, version, err := parseVersion(out)
		if err != nil || name != want.Name || version != want.Version {
			t.Errorf("parseVersion(%q) = %q, %q, %v; want %q, %q", out, name, version, err, want.Name, want.Version)
		}
	}
	for _, out := range []string{"", "podman version 4.3.1", "Usage: foo"} {
		if _, _, err := parseVersion(out); err == nil {
			t.Errorf("parseVersion(%q) accepted it", out)
		}
	}
}

func TestNoEvalByVersion(t *testing.T) {
	for rt, want := range map[Runtime]bool{
		{Name: "apptainer", Version: "1.0.3"}:         false,
		{Name: "apptainer", Version: "1.1.0-rc.2"}:    true,
		{Name: "apptainer", Version: "2.0.0"}:         true,
		{Name: "singularity", Version: "3.9.9"}:       false,
		{Name: "singularity", Version: "3.10.0"}:      true,
		{Name: "singularity", Version: "4.1.2"}:       true,
		{Name: "singularity", Version: "unparseable"}: false,
	} {
		if got := rt.noEval(); got != want {
			t.Errorf("%s %s: noEval = %v, want %v", rt.Name, rt.Version, got, want)
		}
	}
}

func TestFindRuntimeWithNoneInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := FindRuntime(context.Background(), "")
	if !errors.Is(err, ErrNoRuntime) || err.Error() != "no Singularity or Apptainer runtime found on PATH (looked for apptainer, singularity); install one, or run with --no-container" {
		t.Errorf("err = %v", err)
	}
	if _, err := FindRuntime(context.Background(), "/nonexistent/apptainer"); err == nil {
		t.Error("a configured runtime that does not exist was accepted")
	}
}

// A program that answers --version with something else is not taken for
// a runtime.
func TestFindRuntimeRefusesOtherPrograms(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "singularity")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'podman version 4.3.1'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FindRuntime(context.Background(), fake); err == nil {
		t.Error("accepted a program that says it is podman")
	}
}
