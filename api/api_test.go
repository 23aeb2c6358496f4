package api

import (
	"encoding/json"
	"testing"
)

// A run's inputs and outputs come back from the daemon's JSON with their
// numbers exact, ints as int64, and the rest of the run as usual.
func TestRunKeepsNumbersExact(t *testing.T) {
	in := `{"id":"r1","state":"COMPLETE","inputs":{"n":3},"outputs":{"big":4200000000000000000000000000000000000000000,"xs":[0.5,9007199254740993]}}`
	var r Run
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != "r1" || r.State != Complete {
		t.Errorf("run %+v", r)
	}
	if _, ok := r.Inputs["n"].(int64); !ok {
		t.Errorf("input 3 decoded as %T", r.Inputs["n"])
	}
	out, err := json.Marshal(r.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"big":4200000000000000000000000000000000000000000,"xs":[0.5,9007199254740993]}`; string(out) != want {
		t.Errorf("outputs %s, want %s", out, want)
	}
}
