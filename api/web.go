package api

import "time"

// Types the web interface needs beyond runs and events; any client may
// use them.

// Graph is a workflow's step graph (GET /api/v1/runs/{id}/graph, GET
// /api/v1/workflows/{name}/graph): the nodes and edges `flow graph`
// draws.
type Graph struct {
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
}

// GraphNode is a workflow input, step or output.
type GraphNode struct {
	Kind string `json:"kind"` // "input", "step" or "output"
	ID   string `json:"id"`
}

// GraphEdge joins two nodes, labelled with the step outputs it carries.
type GraphEdge struct {
	From   GraphNode `json:"from"`
	To     GraphNode `json:"to"`
	Labels []string  `json:"labels,omitempty"`
}

// InputField is one input of a workflow, as a form asks for it
// (GET /api/v1/workflows/{name}/inputs).
type InputField struct {
	ID         string     `json:"id"`
	Label      string     `json:"label,omitempty"`
	Doc        string     `json:"doc,omitempty"`
	Type       *InputType `json:"type"`
	Default    any        `json:"default,omitempty"`
	HasDefault bool       `json:"has_default,omitempty"`
}

// InputType is a CWL type: Kind is "null", "boolean", "int", "long",
// "float", "double", "string", "File", "Directory", "Any", "array"
// (Items), "enum" (Symbols), "record" (Fields) or "union" (Union).
type InputType struct {
	Kind    string       `json:"kind"`
	Items   *InputType   `json:"items,omitempty"`
	Symbols []string     `json:"symbols,omitempty"`
	Fields  []InputField `json:"fields,omitempty"`
	Union   []*InputType `json:"union,omitempty"`
}

// Inputs answers GET /api/v1/workflows/{name}/inputs.
type Inputs struct {
	Workflow Workflow     `json:"workflow"`
	Label    string       `json:"label,omitempty"`
	Doc      string       `json:"doc,omitempty"`
	Inputs   []InputField `json:"inputs"`
}

// EventCursor answers GET /api/v1/events/latest: the team's latest event,
// to follow /api/v1/events?last_event_id= from.
type EventCursor struct {
	LastEventID uint64 `json:"last_event_id"`
}

// Launch form fields: POST /api/v1/workflows/{name}/runs also takes
// multipart/form-data, with the Trigger as JSON in FieldTrigger and files
// the inputs name in FieldUpload parts. Each upload's file name is a plain
// name; the run finds it at uploads/NAME, relative to its inputs, so an
// input refers to it as {"class": "File", "location": "uploads/NAME"}.
const (
	FieldTrigger = "trigger"
	FieldUpload  = "upload"
)

// TeamUsage is what a team's runs hold and used (GET /api/v1/usage).
type TeamUsage struct {
	Team     string         `json:"team"`
	Runs     map[State]int  `json:"runs"`      // by state
	CPU      time.Duration  `json:"cpu_ns"`    // CPU time of the jobs of its recorded runs
	Jobs     int            `json:"jobs"`      // job attempts recorded
	Bytes    int64          `json:"bytes"`     // in its runs' directories
	Workflow map[string]int `json:"workflows"` // runs by registered workflow
}
