package schema

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// Files names every document and included text a load read: what must
// travel with a workflow to run it elsewhere.
func TestLoaderFilesListsWhatALoadRead(t *testing.T) {
	suite := os.Getenv("CWL_SUITE")
	if suite == "" {
		suite = "../../shared/cwl-v1.2"
	}
	l := NewLoader()
	if _, err := l.Load(filepath.Join(suite, "tests", "count-lines1-wf.cwl")); err != nil {
		testenv.SkipOrFail(t, "no CWL conformance suite (set CWL_SUITE): "+err.Error())
	}
	var got []string
	for _, p := range l.Files() {
		got = append(got, filepath.Base(p))
	}
	for _, want := range []string{"count-lines1-wf.cwl", "wc-tool.cwl", "parseInt-tool.cwl"} {
		if !slices.Contains(got, want) {
			t.Errorf("Files() = %v, missing %s", got, want)
		}
	}
}
