package images

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPathUsesCwltoolNames(t *testing.T) {
	c := &Cache{Dir: "/cache"}
	for _, tc := range []struct {
		ref  Ref
		want string
	}{
		{Ref{Pull: "debian:stable-slim"}, "debian:stable-slim.sif"},
		{Ref{Pull: "quay.io/biocontainers/samtools:1.9"}, "quay.io_biocontainers_samtools:1.9.sif"},
		{Ref{Pull: "docker://debian:12"}, "docker:__debian:12.sif"},
		{Ref{Pull: "debian"}, "debian.sif"},
		// dockerImageId names the image when present, as in cwltool.
		{Ref{Pull: "debian:12", ImageID: "my/debian"}, "my_debian.sif"},
		{Ref{ImageID: "tool:1.0"}, "tool:1.0.sif"},
	} {
		if got := c.Path(tc.ref); got != filepath.Join("/cache", tc.want) {
			t.Errorf("Path(%+v) = %s, want /cache/%s", tc.ref, got, tc.want)
		}
	}
}

func TestLookupFindsImagesOtherToolsNamed(t *testing.T) {
	for _, tc := range []struct {
		ref  Ref
		file string
		who  string
	}{
		{Ref{Pull: "quay.io/biocontainers/samtools:1.9"}, "quay.io_biocontainers_samtools:1.9.img", "cwltool with Singularity 2"},
		{Ref{Pull: "quay.io/biocontainers/samtools:1.9"}, "quay.io_s_biocontainers_s_samtools:1.9.sif", "current cwltool"},
		{Ref{Pull: "my_org/tool"}, "my___org_s_tool:latest.sif", "current cwltool, untagged"},
		{Ref{Pull: "quay.io/biocontainers/samtools:1.9"}, "quay.io_biocontainers_samtools_1.9.sif", "cwl-utils 0.42"},
		{Ref{Pull: "debian"}, "debian_latest.sif", "cwltool 3.2.20260720092025"},
		{Ref{Pull: "debian:12", ImageID: "debian12"}, "debian12", "cwltool with dockerImageId and dockerPull"},
	} {
		c := &Cache{Dir: t.TempDir()}
		if _, ok := c.Lookup(tc.ref); ok {
			t.Fatalf("%s: Lookup found an image in an empty cache", tc.who)
		}
		want := filepath.Join(c.Dir, tc.file)
		writeSIF(t, want, sifSpec{})
		if got, ok := c.Lookup(tc.ref); !ok || got != want {
			t.Errorf("%s: Lookup(%+v) = %q, %v; want %s", tc.who, tc.ref, got, ok, want)
		}
	}
}

func TestLookupPrefersTheClassicName(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	r := Ref{Pull: "a/b:1"}
	for _, n := range []string{"a_s_b:1.sif", "a_b:1.img", "a_b:1.sif"} {
		writeSIF(t, filepath.Join(c.Dir, n), sifSpec{})
	}
	if got, _ := c.Lookup(r); got != c.Path(r) {
		t.Errorf("Lookup = %s, want %s", got, c.Path(r))
	}
}

func TestLookupIgnoresDirectories(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	r := Ref{Pull: "debian:12"}
	if err := os.Mkdir(c.Path(r), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, ok := c.Lookup(r); ok {
		t.Errorf("Lookup found directory %s", p)
	}
}

func TestPullURI(t *testing.T) {
	for in, want := range map[string]string{
		"debian:stable-slim":         "docker://debian:stable-slim",
		"quay.io/biocontainers/x:1":  "docker://quay.io/biocontainers/x:1",
		"docker://debian":            "docker://debian",
		"library://alpine:latest":    "library://alpine:latest",
		"oras://ghcr.io/org/img:1.0": "oras://ghcr.io/org/img:1.0",
		"":                           "",
	} {
		if got := (Ref{Pull: in}).PullURI(); got != want {
			t.Errorf("PullURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewRefFindsLocalSIF(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "img"), 0o755); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(base, "img", "tool.sif")
	writeSIF(t, local, sifSpec{})

	if r := NewRef("img/tool.sif", "", base); r.File != local {
		t.Errorf("relative dockerPull: File = %q, want %s", r.File, local)
	}
	if r := NewRef("debian:12", local, "/elsewhere"); r.File != local || r.Pull != "debian:12" {
		t.Errorf("absolute dockerImageId: %+v", r)
	}
	if r := NewRef("img/missing.sif", "", base); r.File != "" {
		t.Errorf("missing file became File %q; it should be pulled by name", r.File)
	}
	if r := NewRef("debian:12", "", base); r.File != "" || r.PullURI() != "docker://debian:12" {
		t.Errorf("registry name: %+v", r)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("FLOW_SINGULARITY_CACHE", "")
	t.Setenv("CWL_SINGULARITY_CACHE", "")
	check := func(want string) {
		t.Helper()
		if got, err := DefaultDir(); err != nil || got != want {
			t.Errorf("DefaultDir() = %q, %v; want %s", got, err, want)
		}
	}
	check("/xdg/flow/singularity")
	t.Setenv("CWL_SINGULARITY_CACHE", "/shared/cwl")
	check("/shared/cwl")
	t.Setenv("FLOW_SINGULARITY_CACHE", "/shared/flow")
	check("/shared/flow")
}
