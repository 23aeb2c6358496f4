package schema

import (
	"fmt"
	"slices"
	"strings"
)

// The fields each kind of CWL object may have, in CWL v1.0 to v1.2. A
// field outside them is refused, as other CWL runners refuse it: it is
// most often a misspelt field ("inputbinding") whose meaning would
// otherwise be silently lost. A field whose name has a namespace prefix or
// is a URI ("ex:color") is an extension and always allowed.
var (
	processFields = []string{"class", "cwlVersion", "id", "label", "doc", "inputs", "outputs", "requirements", "hints", "intent", "$namespaces", "$schemas", "$base"}
	classFields   = map[string][]string{
		"CommandLineTool": {"baseCommand", "arguments", "stdin", "stdout", "stderr", "successCodes", "temporaryFailCodes", "permanentFailCodes"},
		"ExpressionTool":  {"expression"},
		"Workflow":        {"steps"},
	}
	paramFields = []string{"id", "name", "label", "doc", "type", "format", "secondaryFiles", "streamable",
		"default", "inputBinding", "loadContents", "loadListing", "outputBinding"}
	workflowOutputFields = []string{"outputSource", "linkMerge", "pickValue"}
	typeMapFields        = []string{"type", "name", "label", "doc", "items", "fields", "symbols", "inputBinding", "outputBinding"}
	bindingFields        = []string{"position", "prefix", "separate", "itemSeparator", "valueFrom", "shellQuote", "loadContents"}
	outputBindingFields  = []string{"glob", "loadContents", "loadListing", "outputEval"}
	stepFields           = []string{"id", "label", "doc", "in", "out", "requirements", "hints", "run", "when", "scatter", "scatterMethod"}
	stepInputFields      = []string{"id", "source", "linkMerge", "pickValue", "loadContents", "loadListing", "label", "default", "valueFrom"}
	stepOutputFields     = []string{"id"}
	secondaryFields      = []string{"pattern", "required"}
)

// The values of CWL's enumerated fields, by field name.
var enumValues = map[string][]string{
	"linkMerge":     {"merge_nested", "merge_flattened"},
	"pickValue":     {"first_non_null", "the_only_non_null", "all_non_null"},
	"scatterMethod": {"dotproduct", "nested_crossproduct", "flat_crossproduct"},
	"loadListing":   {"no_listing", "shallow_listing", "deep_listing"},
}

// optEnum reads an optional enumerated field (see enumValues): a value
// outside its set would be taken for the default at run time without a
// word, so it is refused here.
func optEnum(n *Node, key, path string) (string, error) {
	s, err := optString(n, key, path)
	if err != nil || s == "" {
		return s, err
	}
	values := enumValues[key]
	if slices.Contains(values, s) {
		return s, nil
	}
	msg := fmt.Sprintf("unknown value %q; expected %s", s, strings.Join(values, ", "))
	if near := nearest(s, [][]string{values}); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	return "", errAt(n.Get(key), join(path, key), "%s", msg)
}

// knownFields refuses a key of the mapping n that is none of known (the
// fields of what n is, named by what for the message), unless it is an
// extension.
func knownFields(n *Node, path, what string, known ...[]string) error {
	if n == nil || n.Kind != MapNode {
		return nil
	}
	for _, k := range n.Keys {
		if strings.Contains(k, ":") || slices.ContainsFunc(known, func(fs []string) bool { return slices.Contains(fs, k) }) {
			continue
		}
		msg := fmt.Sprintf("unknown field of %s", what)
		if near := nearest(k, known); near != "" {
			msg += fmt.Sprintf("; did you mean %s?", near)
		}
		msg += fmt.Sprintf(" (an extension field needs a namespace prefix, like ex:%s)", k)
		return &Error{Pos: n.KeyPos(k), Field: join(path, k), Msg: msg}
	}
	return nil
}

// nearest returns the field of known that k most likely misspells: the
// same but for case, or at most two edits away; "" when none is.
func nearest(k string, known [][]string) string {
	best, bestD := "", 3
	for _, fs := range known {
		for _, f := range fs {
			if strings.EqualFold(f, k) {
				return f
			}
			if d := editDistance(strings.ToLower(k), strings.ToLower(f)); d < bestD {
				best, bestD = f, d
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
