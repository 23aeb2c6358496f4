package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// vendored is each file the interface embeds from npm, and where npm ci
// puts it.
var vendored = map[string]string{
	"static/vendor/dagre.esm.js":           "node_modules/@dagrejs/dagre/dist/dagre.esm.js",
	"static/vendor/dagre.LICENSE":          "node_modules/@dagrejs/dagre/LICENSE",
	"static/vendor/dagre.esm.js.LEGAL.txt": "node_modules/@dagrejs/dagre/dist/dagre.esm.js.LEGAL.txt",
}

// The embedded dagre is the version package-lock.json pins (checked
// offline), byte for byte what `npm ci` installs from the lock (checked
// when npm can reach its registry: in CI it must).
func TestVendoredFilesAreWhatNpmInstalls(t *testing.T) {
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	data, err := os.ReadFile("npm/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		t.Fatal(err)
	}
	version := lock.Packages["node_modules/@dagrejs/dagre"].Version
	embedded, err := static.ReadFile("static/vendor/dagre.esm.js")
	if err != nil {
		t.Fatal(err)
	}
	if version == "" || !bytes.Contains(embedded, []byte(`"`+version+`"`)) {
		t.Fatalf("the embedded dagre is not version %q, which package-lock.json pins", version)
	}

	npm, err := exec.LookPath("npm")
	if err != nil {
		testenv.SkipOrFail(t, "no npm to check the vendored files against npm ci")
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json"} {
		data, err := os.ReadFile(filepath.Join("npm", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	cmd := exec.Command(npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		testenv.SkipOrFail(t, "npm ci failed (no registry?): "+err.Error()+"\n"+string(out))
	}
	for emb, installed := range vendored {
		want, err := os.ReadFile(filepath.Join(dir, installed))
		if err != nil {
			t.Fatal(err)
		}
		got, err := static.ReadFile(emb)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s as npm ci installs it: copy it again (cp server/web/npm/%s server/web/%s)", emb, installed, installed, emb)
		}
	}
}

// The page loads nothing from elsewhere and holds no inline script or
// style: every script and stylesheet is one of the embedded files.
func TestPageLoadsOnlyItsOwnFiles(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page bytes.Buffer
	page.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != Policy {
		t.Fatalf("/: %d, policy %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	if regexp.MustCompile(`<script>|<style|style=|\son[a-z]+=`).Match(page.Bytes()) {
		t.Error("the page has inline script or style")
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(page.String(), -1)
	if len(refs) < 2 {
		t.Fatalf("the page loads %v", refs)
	}
	for _, m := range refs {
		if !strings.HasPrefix(m[1], "/ui/") {
			t.Errorf("the page loads %s, not one of its own files", m[1])
			continue
		}
		r, err := http.Get(srv.URL + m[1])
		if err != nil || r.StatusCode != 200 {
			t.Errorf("%s: %v %v", m[1], r, err)
		} else {
			r.Body.Close()
		}
	}
	// Imports between modules stay inside /ui/ too.
	entries, _ := static.ReadDir("static/js")
	for _, e := range entries {
		src, _ := static.ReadFile("static/js/" + e.Name())
		for _, m := range regexp.MustCompile(`from '([^']+)'`).FindAllStringSubmatch(string(src), -1) {
			if !strings.HasPrefix(m[1], "./") && !strings.HasPrefix(m[1], "../vendor/") {
				t.Errorf("%s imports %s", e.Name(), m[1])
			}
		}
	}
}

// Every module parses (node --check), so that a slip in one does not
// leave the page at "Loading…".
func TestModulesParse(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.SkipOrFail(t, "no node to check the modules with")
	}
	entries, _ := static.ReadDir("static/js")
	for _, e := range entries {
		src, _ := static.ReadFile("static/js/" + e.Name())
		cmd := exec.Command(node, "--check", "--input-type=module")
		cmd.Stdin = bytes.NewReader(src)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", e.Name(), err, out)
		}
	}
}
