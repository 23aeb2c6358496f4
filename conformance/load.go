package conformance

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Test is one entry of a conformance index.
type Test struct {
	Number     int    // 1-based position in the flattened list, imports expanded
	ID         string // short name; selectors and reports use it
	Doc        string
	Tool       string // absolute path, keeping any #fragment
	Job        string // absolute path, or "" when the test has no job
	Output     any    // expected output object; nil when the entry has none
	ShouldFail bool
	Tags       []string
	Source     string // file:line of the entry, for messages

	// tagged records whether the entry had a tags field at all: cwltest
	// treats an untagged test as required, but one with an empty list as not.
	tagged bool
}

// Required reports whether an unsupported-feature exit fails the test
// instead of counting as unsupported.
func (t Test) Required() bool {
	return !t.tagged || slices.Contains(t.Tags, "required")
}

// entry is the YAML shape of a test. Unknown fields are ignored.
type entry struct {
	ID         any      `yaml:"id"`
	Label      string   `yaml:"label"`
	Doc        string   `yaml:"doc"`
	Tool       string   `yaml:"tool"`
	Job        string   `yaml:"job"`
	Output     any      `yaml:"output"`
	ShouldFail bool     `yaml:"should_fail"`
	Tags       []string `yaml:"tags"`
}

// Load reads a conformance index and every index it imports, and returns the
// tests in file order, numbered from 1, with tool and job paths made
// absolute relative to the file that names them.
func Load(path string) ([]Test, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve the test file %s: %w", path, err)
	}
	l := &loader{active: map[string]bool{}}
	tests, err := l.file(abs, path)
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for i := range tests {
		t := &tests[i]
		t.Number = i + 1
		if t.ID == "" {
			t.ID = fmt.Sprintf("test%d", t.Number)
		}
		if first, dup := seen[t.ID]; dup {
			return nil, fmt.Errorf("%s: the id %q is already used at %s; ids must be unique for -s and -S to work", t.Source, t.ID, first)
		}
		seen[t.ID] = t.Source
	}
	return tests, nil
}

type loader struct {
	active map[string]bool // files being loaded, to catch import cycles
}

// file loads one index. shown is the path as the user or the importing file
// spelled it, used in messages.
func (l *loader) file(abs, shown string) ([]Test, error) {
	if l.active[abs] {
		return nil, fmt.Errorf("%s: the file imports itself, directly or through other files", shown)
	}
	l.active[abs] = true
	defer delete(l.active, abs)

	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("cannot read the test file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: the test file is not valid YAML: %w", shown, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the test file is empty; it must hold a list of tests", shown)
	}
	root := doc.Content[0]
	if root.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d:%d: the test file must hold a list of tests", shown, root.Line, root.Column)
	}
	var tests []Test
	for _, item := range root.Content {
		more, err := l.item(abs, shown, item)
		if err != nil {
			return nil, err
		}
		tests = append(tests, more...)
	}
	return tests, nil
}

// item turns one list entry into tests: a "$import" brings in a whole file,
// anything else is a single test.
func (l *loader) item(abs, shown string, item *yaml.Node) ([]Test, error) {
	where := fmt.Sprintf("%s:%d:%d", shown, item.Line, item.Column)
	target, isImport, err := importTarget(item)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	dir := filepath.Dir(abs)
	if isImport {
		p, err := resolve(dir, target)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		return l.file(p, filepath.Join(filepath.Dir(shown), target))
	}
	t, err := decodeTest(item, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	t.Source = fmt.Sprintf("%s:%d", shown, item.Line)
	return []Test{t}, nil
}

// importTarget recognises the entry form "$import: other.yaml".
func importTarget(item *yaml.Node) (string, bool, error) {
	if item.Kind != yaml.MappingNode {
		return "", false, nil
	}
	for i := 0; i+1 < len(item.Content); i += 2 {
		if item.Content[i].Value != "$import" {
			continue
		}
		if len(item.Content) != 2 {
			return "", false, errors.New("an entry with $import must have no other fields")
		}
		v := item.Content[i+1]
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			return "", false, errors.New("$import must name a file")
		}
		return v.Value, true, nil
	}
	return "", false, nil
}

func decodeTest(item *yaml.Node, dir string) (Test, error) {
	if item.Kind != yaml.MappingNode {
		return Test{}, errors.New("a test must be a mapping with at least a tool field")
	}
	var e entry
	if err := item.Decode(&e); err != nil {
		return Test{}, fmt.Errorf("the test entry is malformed: %w", err)
	}
	if e.Tool == "" {
		return Test{}, errors.New("the test has no tool field")
	}
	t := Test{
		ID: testID(e), Doc: strings.TrimSpace(e.Doc), Output: normalize(e.Output),
		ShouldFail: e.ShouldFail, Tags: e.Tags, tagged: hasKey(item, "tags") && e.Tags != nil,
	}
	var err error
	if t.Tool, err = resolve(dir, e.Tool); err != nil {
		return Test{}, fmt.Errorf("the tool field: %w", err)
	}
	if e.Job != "" {
		if t.Job, err = resolve(dir, e.Job); err != nil {
			return Test{}, fmt.Errorf("the job field: %w", err)
		}
	}
	return t, nil
}

var nameSeparators = regexp.MustCompile(`[/#]`)

// testID picks the name a test goes by: its id reduced to the last segment
// (cwltest's shortname, for ids written as URIs), else its deprecated label.
func testID(e entry) string {
	if e.ID == nil {
		return e.Label
	}
	parts := nameSeparators.Split(fmt.Sprint(e.ID), -1)
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] != "" {
			return parts[i]
		}
	}
	return ""
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// resolve makes a reference from an index absolute. References are paths
// relative to the index's folder, absolute paths, or file:// URIs; a
// #fragment (a process inside a packed document) is kept as written.
func resolve(dir, ref string) (string, error) {
	base, frag, hasFrag := strings.Cut(ref, "#")
	if strings.HasPrefix(base, "file://") {
		u, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("%q is not a valid file URI: %w", ref, err)
		}
		base = u.Path
	} else if strings.Contains(base, "://") {
		return "", fmt.Errorf("%q is not a local file; only paths and file:// URIs are supported", ref)
	}
	if !filepath.IsAbs(base) {
		base = filepath.Join(dir, base)
	}
	if hasFrag {
		return base + "#" + frag, nil
	}
	return base, nil
}
