package images

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Ref is what a CWL DockerRequirement asks for.
type Ref struct {
	// Pull is dockerPull: "docker://x", "library://x", "oras://x", or a
	// bare name like "debian:stable-slim", which means docker://.
	Pull string
	// ImageID is dockerImageId. When set it, not Pull, names the image in
	// the cache, as in cwltool; Pull then only says where to get it.
	ImageID string
	// File is a local SIF image used in place, never copied into the
	// cache. NewRef sets it when dockerPull or dockerImageId names one.
	File string
}

// NewRef makes the Ref for a DockerRequirement's dockerPull and
// dockerImageId. A value that ends in ".sif" and names an existing file,
// relative to baseDir (the directory of the CWL document) unless
// absolute, becomes File: the image is that file and nothing is pulled.
func NewRef(pull, imageID, baseDir string) Ref {
	r := Ref{Pull: pull, ImageID: imageID}
	for _, v := range []string{imageID, pull} {
		if p, ok := localSIF(v, baseDir); ok {
			r.File = p
			break
		}
	}
	return r
}

// localSIF reports whether v names an existing .sif file.
func localSIF(v, baseDir string) (string, bool) {
	v = strings.TrimPrefix(v, "file://")
	if !strings.HasSuffix(v, ".sif") {
		return "", false
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(baseDir, v)
	}
	st, err := os.Stat(v)
	if err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return v, true
	}
	return abs, true
}

// String is the image as the user wrote it, for messages.
func (r Ref) String() string {
	switch {
	case r.File != "":
		return r.File
	case r.ImageID != "":
		return r.ImageID
	}
	return r.Pull
}

// PullURI is what a runtime pulls: Pull with "docker://" added to a bare
// name (cwltool does the same), or "" when the Ref has no dockerPull.
func (r Ref) PullURI() string {
	if r.Pull == "" || strings.Contains(r.Pull, "://") {
		return r.Pull
	}
	return "docker://" + r.Pull
}

// key is the string cwltool turns into file names: dockerImageId when
// there is one, else dockerPull, exactly as written (a "docker://"
// prefix stays, so "docker://debian" and "debian" are different files).
func (r Ref) key() string {
	if r.ImageID != "" {
		return r.ImageID
	}
	return r.Pull
}

// fileName is the name a pulled image gets in the cache: cwltool's
// _normalize_sif_id, slashes to underscores and ".sif" appended.
func (r Ref) fileName() string {
	return strings.ReplaceAll(r.key(), "/", "_") + ".sif"
}

// candidates are the names under which an image already in the cache is
// accepted, best first: ours (the classic cwltool name), the ".img" twin
// older Singularity wrote, the raw dockerImageId (cwltool pulls to it
// when a requirement has both fields), and the names later cwltool and
// cwl-utils versions write, so one cache directory serves them all.
func (r Ref) candidates() []string {
	k := r.key()
	if k == "" {
		return nil
	}
	slashed := strings.ReplaceAll(k, "/", "_")
	names := []string{slashed + ".sif", slashed + ".img"}
	if r.ImageID != "" && !strings.Contains(k, "/") {
		names = append(names, k)
	}
	names = append(names, encodedName(k))
	names = append(names, strings.ReplaceAll(slashed, ":", "_")+".sif")
	if !strings.Contains(k, ":") {
		names = append(names, slashed+"_latest.sif")
	}
	return dedupe(names)
}

var (
	tagOrDigest = regexp.MustCompile(`(:[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}|@[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)$`)
	hasScheme   = regexp.MustCompile(`^[a-zA-Z0-9_-]+://`)
)

// encodedName is the name current cwltool (_encode_container_image)
// writes: ":latest" added to an untagged name without a scheme, then "_"
// escaped as "___" and "/" as "_s_", so distinct images never collide.
func encodedName(k string) string {
	if !tagOrDigest.MatchString(k) && !hasScheme.MatchString(k) {
		k += ":latest"
	}
	k = strings.ReplaceAll(k, "_", "___")
	return strings.ReplaceAll(k, "/", "_s_") + ".sif"
}

func dedupe(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := names[:0]
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
