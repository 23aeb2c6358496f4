package testenv

import (
	"encoding/json"
	"fmt"
	"testing"
)

// OutputChecksums maps each file of an output object (flow run's stdout)
// to its checksum, by output name and position ("stats[2]"): what two runs
// of one workflow, here and elsewhere, must agree on.
func OutputChecksums(t testing.TB, stdout string) map[string]string {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	sums := map[string]string{}
	var walk func(name string, v any)
	walk = func(name string, v any) {
		switch x := v.(type) {
		case []any:
			for i, it := range x {
				walk(fmt.Sprintf("%s[%d]", name, i), it)
			}
		case map[string]any:
			if s, ok := x["checksum"].(string); ok {
				sums[name] = s
			}
		}
	}
	for k, v := range out {
		walk(k, v)
	}
	return sums
}
