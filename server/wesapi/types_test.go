package wesapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestZeroValuesMarshalRequiredCollections(t *testing.T) {
	cases := []struct {
		v    any
		want []string
	}{
		{minimalServiceInfo(), []string{`"tags":{}`, `"system_state_counts":{}`,
			`"workflow_type_versions":{}`, `"supported_wes_versions":[]`,
			`"default_workflow_engine_parameters":[]`, `"auth_instructions_url":""`}},
		{RunListResponse{}, []string{`"runs":[]`, `"next_page_token":""`}},
		{RunListResponse{Runs: []RunSummary{{RunID: "r1"}}}, []string{`"tags":{}`}},
		{TaskListResponse{}, []string{`"task_logs":[]`, `"next_page_token":""`}},
		{TaskLog{}, []string{`"id":""`, `"name":""`}},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%T marshals to %s, missing %s", c.v, b, w)
			}
		}
	}
}

func TestTimestamp(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 30, 0, 500, time.FixedZone("CET", 3600))
	if got := Timestamp(at); got != "2026-03-01T09:30:00Z" {
		t.Errorf("Timestamp = %q", got)
	}
	if got := Timestamp(time.Time{}); got != "" {
		t.Errorf("Timestamp(zero) = %q, want empty", got)
	}
}

func TestTerminalStates(t *testing.T) {
	var terminal []State
	for _, s := range States {
		if s.Terminal() {
			terminal = append(terminal, s)
		}
	}
	want := "COMPLETE EXECUTOR_ERROR SYSTEM_ERROR CANCELED PREEMPTED"
	if got := strings.Join(strs(terminal), " "); got != want {
		t.Errorf("terminal states %q, want %q", got, want)
	}
}

func strs(states []State) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}
