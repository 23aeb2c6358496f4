package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// InputObject is a parsed job file: the input values, and the
// requirements it carries under cwl:requirements.
type InputObject struct {
	Values       map[string]any
	Requirements []Requirement
	Node         *Node // for positions in error messages
}

// LoadInputs reads a YAML or JSON input object. File and Directory
// locations (and paths) are made absolute relative to the file's folder.
func LoadInputs(path string) (*InputObject, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Pos: Pos{File: path}, Msg: "cannot read input object: " + readErrText(err)}
	}
	abs, _ := filepath.Abs(path)
	return ParseInputs(data, abs)
}

// ParseInputs parses an input object held in memory; file names the
// document for messages and relative locations.
func ParseInputs(data []byte, file string) (*InputObject, error) {
	n, err := ParseBytes(data, file, FileURI(file))
	if err != nil {
		return nil, err
	}
	obj := &InputObject{Values: map[string]any{}, Node: n}
	if n.IsNull() {
		return obj, nil
	}
	if n.Kind != MapNode {
		return nil, errAt(n, "", "an input object must be a mapping from input ids to values, found %s", describe(n))
	}
	for i, k := range n.Keys {
		if k == "cwl:requirements" || k == "https://w3id.org/cwl/cwl#requirements" {
			l := NewLoader()
			reqs, err := l.decodeRequirements(n.Vals[i], k, scope{}, true)
			if err != nil {
				return nil, err
			}
			obj.Requirements = reqs
			continue
		}
		obj.Values[k] = resolveLocations(n.Vals[i].Plain(), n.Base)
	}
	return obj, nil
}

// Describe returns a short description of value v for error messages.
func Describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		if len(t) > 40 {
			t = t[:37] + "..."
		}
		return fmt.Sprintf("the text %q", t)
	case bool:
		return fmt.Sprintf("the boolean %v", t)
	case int64, float64, json.Number:
		return fmt.Sprintf("the number %v", t)
	case []any:
		return fmt.Sprintf("a list of %d", len(t))
	case map[string]any:
		if c, ok := t["class"].(string); ok {
			return "a " + c
		}
		return "a mapping"
	}
	return fmt.Sprintf("%v", v)
}
