package examples_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// flowBin is the flow binary, built once for all tests by TestMain.
var flowBin string

func TestMain(m *testing.M) {
	testenv.RunWithBinaries(m, map[string]string{"flow": "github.com/flow-cwl/flow/cmd/flow"}, func(dir string) int {
		flowBin = filepath.Join(dir, "flow")
		return m.Run()
	})
}

// requireTools skips the test when a program the examples run is missing,
// unless FLOW_REQUIRE_INTEGRATION is set (as in CI), where it fails.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("FLOW_REQUIRE_INTEGRATION") != "" {
				t.Fatalf("%s is not installed, and FLOW_REQUIRE_INTEGRATION is set", n)
			}
			t.Skipf("%s is not installed", n)
		}
	}
}

// expectation is what one example run must produce.
type expectation struct {
	doc, job string
	args     []string // extra input flags after the job file
	check    func(t *testing.T, out map[string]any)
}

var examples = map[string][]expectation{
	"fasta-stats": {{
		doc: "fasta-stats.cwl", job: "fasta-stats.yml",
		check: func(t *testing.T, out map[string]any) {
			wantFile(t, out["report"], "report.tsv",
				"sample\tsequences\tbases\tgc_percent\n"+
					"sample_a\t3\t82\t48.8\n"+
					"sample_b\t2\t46\t63.0\n"+
					"sample_c\t4\t107\t22.4\n")
			files := wantList(t, out["per_sample"], 3)
			wantFile(t, files[0], "sample_a.stats.tsv", "sample_a\t3\t82\t48.8\n")
			wantFile(t, files[2], "sample_c.stats.tsv", "sample_c\t4\t107\t22.4\n")
		},
	}},
	"read-filter": {
		{
			doc: "read-filter.cwl", job: "read-filter.yml",
			check: func(t *testing.T, out map[string]any) {
				wantFile(t, out["filtered"], "filtered.fa",
					">read1\nACGTTGCAACGTAGCTAGCATCGACTAGCTAGCATCGA\n>read4\nTTGCATGCATGCATGCATCGATCGATCGATCGGGCC\n")
				wantFile(t, out["summary"], "summary.txt", "2 reads, 74 bases\n")
			},
		},
		{
			// The other branch, chosen by an input flag that overrides the job file.
			doc: "read-filter.cwl", job: "read-filter.yml", args: []string{"--strict=false"},
			check: func(t *testing.T, out map[string]any) {
				wantFile(t, out["filtered"], "filtered.fa",
					">read1\nACGTTGCAACGTAGCTAGCATCGACTAGCTAGCATCGA\n>read4\nTTGCATGCATGCATGCATCGATCGATCGATCGGGCC\n>read5\nGGCCATCGATCGAT\n")
				wantFile(t, out["summary"], "summary.txt", "3 reads, 88 bases\n")
			},
		},
	},
	"corpus-words": {{
		doc: "corpus-words.cwl", job: "corpus-words.yml",
		check: func(t *testing.T, out map[string]any) {
			wantFile(t, out["top_words"], "top-words.tsv",
				"the\t10\t3 documents\na\t6\t3 documents\nand\t4\t3 documents\n"+
					"step\t4\t3 documents\nworkflow\t4\t3 documents\nfiles\t3\t3 documents\n")
			docs := wantList(t, out["per_document"], 3)
			for i, f := range docs {
				name := fmt.Sprintf("abstract%d.words.tsv", i+1)
				if got := f.(map[string]any)["basename"]; got != name {
					t.Errorf("per_document[%d] is named %v, want %s", i, got, name)
				}
			}
			wantPrefix(t, docs[0], "4\ta\n3\tworkflow\n")
		},
	}},
}

func TestExamples(t *testing.T) {
	requireTools(t, "awk", "python3", "sort")
	for name, runs := range examples {
		for i, ex := range runs {
			t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
				t.Parallel()
				ex.check(t, runFlow(t, ex))
			})
		}
	}
}

// TestEveryExampleIsChecked keeps the table above complete: an example
// workflow (a .cwl file here with a .yml beside it) without expectations
// would otherwise never run.
func TestEveryExampleIsChecked(t *testing.T) {
	docs, _ := filepath.Glob("*.cwl")
	if len(docs) < 3 {
		t.Fatalf("found %d example workflows, want at least 3", len(docs))
	}
	for _, d := range docs {
		name := strings.TrimSuffix(d, ".cwl")
		if _, err := os.Stat(name + ".yml"); err != nil {
			t.Errorf("%s has no inputs file %s.yml", d, name)
		}
		if len(examples[name]) == 0 {
			t.Errorf("%s has no expectations in examples_test.go", d)
		}
	}
}

// TestValidate checks that every document here, tools and subworkflows
// included, passes "flow validate".
func TestValidate(t *testing.T) {
	var docs []string
	for _, pat := range []string{"*.cwl", "tools/*.cwl", "subworkflows/*.cwl"} {
		m, _ := filepath.Glob(pat)
		docs = append(docs, m...)
	}
	for _, d := range docs {
		out, err := exec.Command(flowBin, "validate", d).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), d+" is valid CWL (") {
			t.Errorf("flow validate %s: %v\n%s", d, err, out)
		}
	}
}

// runFlow runs one example into a fresh output directory and returns the
// output object flow printed.
func runFlow(t *testing.T, ex expectation) map[string]any {
	t.Helper()
	outdir := t.TempDir()
	args := append([]string{"run", "--quiet", "--outdir", outdir, "--tmpdir-prefix", t.TempDir(), ex.doc, ex.job}, ex.args...)
	cmd := exec.Command(flowBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("flow %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("flow printed no output object: %v\nstdout:\n%s", err, stdout.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("output object:\n%s", stdout.String())
		}
	})
	wantInside(t, out, outdir)
	return out
}

// wantFile checks a File output: its name, that its path holds content,
// and that the checksum and size flow reported are those of the content.
func wantFile(t *testing.T, v any, basename, content string) {
	t.Helper()
	f, ok := v.(map[string]any)
	if !ok || f["class"] != "File" {
		t.Errorf("want a File named %s, got %v", basename, v)
		return
	}
	if f["basename"] != basename {
		t.Errorf("file is named %v, want %s", f["basename"], basename)
	}
	data, err := os.ReadFile(fmt.Sprint(f["path"]))
	if err != nil {
		t.Errorf("cannot read the output %s: %v", basename, err)
		return
	}
	if string(data) != content {
		t.Errorf("%s holds:\n%s\nwant:\n%s", basename, data, content)
	}
	if want := fmt.Sprintf("sha1$%x", sha1.Sum(data)); f["checksum"] != want {
		t.Errorf("%s: checksum %v, want %s", basename, f["checksum"], want)
	}
	if f["size"] != float64(len(data)) {
		t.Errorf("%s: size %v, want %d", basename, f["size"], len(data))
	}
}

func wantPrefix(t *testing.T, v any, prefix string) {
	t.Helper()
	f, _ := v.(map[string]any)
	data, err := os.ReadFile(fmt.Sprint(f["path"]))
	if err != nil || !strings.HasPrefix(string(data), prefix) {
		t.Errorf("%v starts with %.40q (%v), want %q", f["basename"], data, err, prefix)
	}
}

func wantList(t *testing.T, v any, n int) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok || len(l) != n {
		t.Fatalf("want a list of %d, got %v", n, v)
	}
	return l
}

// wantInside checks that every file in the output object was moved into
// outdir, where the user asked for the results.
func wantInside(t *testing.T, v any, outdir string) {
	t.Helper()
	switch x := v.(type) {
	case []any:
		for _, it := range x {
			wantInside(t, it, outdir)
		}
	case map[string]any:
		if x["class"] == "File" || x["class"] == "Directory" {
			if p := fmt.Sprint(x["path"]); !strings.HasPrefix(p, outdir+string(filepath.Separator)) {
				t.Errorf("output %v is at %s, not in --outdir %s", x["basename"], p, outdir)
			}
			return
		}
		for _, it := range x {
			wantInside(t, it, outdir)
		}
	}
}
