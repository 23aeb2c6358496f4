package client

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flow-cwl/flow/schema"
)

// Bundle is a workflow and its inputs made ready to travel: every file
// the daemon needs, named by where it goes in the run's directory, and an
// input object whose locations are those names.
type Bundle struct {
	Workflow string         // the main document in the run directory, with its #fragment
	Inputs   map[string]any // the input object, locations relative to the run directory
	Files    []File
}

// File is one file of a Bundle.
type File struct {
	Name string // slash-separated path in the run directory
	Path string // where it is here
}

// Pack bundles the document (a path, maybe with #fragment) with every
// document and text it loads and every local file its documents name
// (defaults, $schemas), under workflow/ in their layout here, and
// the files and directories of inputs (absolute locations, as flow's
// input reading gives them) under inputs/N/.
func Pack(document string, inputs map[string]any) (*Bundle, error) {
	doc, frag, _ := strings.Cut(document, "#")
	l := schema.NewLoader()
	p, err := l.Load(document)
	if err != nil {
		return nil, err
	}
	main, err := filepath.Abs(doc)
	if err != nil {
		return nil, err
	}
	docs := l.Files()
	refs := referencedFiles(p)
	root := commonDir(append(append(docs, refs...), main))
	b := &Bundle{}
	for _, p := range docs {
		rel, _ := filepath.Rel(root, p)
		b.Files = append(b.Files, File{Name: path.Join("workflow", filepath.ToSlash(rel)), Path: p})
	}
	for _, p := range refs {
		rel, _ := filepath.Rel(root, p)
		if err := b.attach(p, path.Join("workflow", filepath.ToSlash(rel))); err != nil {
			return nil, err
		}
	}
	rel, _ := filepath.Rel(root, main)
	b.Workflow = path.Join("workflow", filepath.ToSlash(rel))
	if frag != "" {
		b.Workflow += "#" + frag
	}
	b.Inputs, err = b.packInputs(inputs)
	return b, err
}

// referencedFiles lists the local files and directories that p and the
// processes it runs name besides documents: File and Directory defaults
// and literals in requirements, which stand relative to their document,
// and $schemas ontologies. They travel in the documents' layout, so the
// documents' references to them still hold. Missing ones are left out:
// the run says what is missing, as it would here.
func referencedFiles(p *schema.Process) []string {
	seen := map[string]bool{}
	var out []string
	// A file inside a directory already sent goes with it.
	inside := func(p string) bool {
		for _, o := range out {
			if strings.HasPrefix(p, o+string(filepath.Separator)) {
				return true
			}
		}
		return false
	}
	addValue := func(v any) {
		walkObjects(v, func(m map[string]any) {
			if local := localFile(m); local != "" && !seen[local] && !inside(local) && exists(local) {
				seen[local] = true
				out = append(out, local)
			}
		})
	}
	var walk func(p *schema.Process)
	walk = func(p *schema.Process) {
		for _, s := range p.Schemas {
			if local := schema.URIPath(s); strings.HasPrefix(s, "file:") && !seen[local] && exists(local) {
				seen[local] = true
				out = append(out, local)
			}
		}
		for _, in := range p.Inputs {
			addValue(in.Default)
		}
		for _, r := range append(slices.Clone(p.Requirements), p.Hints...) {
			addValue(r.Fields)
		}
		for _, st := range p.Steps {
			for _, in := range st.In {
				addValue(in.Default)
			}
			for _, r := range append(slices.Clone(st.Requirements), st.Hints...) {
				addValue(r.Fields)
			}
			if st.Run != nil {
				walk(st.Run)
			}
		}
	}
	walk(p)
	slices.Sort(out)
	return out
}

// walkObjects calls fn on every map in v, outermost first.
func walkObjects(v any, fn func(map[string]any)) {
	switch t := v.(type) {
	case []any:
		for _, it := range t {
			walkObjects(it, fn)
		}
	case map[string]any:
		fn(t)
		for _, k := range slices.Sorted(maps.Keys(t)) {
			walkObjects(t[k], fn)
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// packInputs copies the input object with each local File and Directory
// attached and pointed at its attachment.
func (b *Bundle) packInputs(inputs map[string]any) (map[string]any, error) {
	if inputs == nil {
		return map[string]any{}, nil
	}
	n := 0
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch t := v.(type) {
		case []any:
			out := make([]any, len(t))
			for i, it := range t {
				var err error
				if out[i], err = walk(it); err != nil {
					return nil, err
				}
			}
			return out, nil
		case map[string]any:
			out := make(map[string]any, len(t))
			for _, k := range slices.Sorted(maps.Keys(t)) { // the same bundle every time
				var err error
				if out[k], err = walk(t[k]); err != nil {
					return nil, err
				}
			}
			if local := localFile(out); local != "" {
				n++
				name := path.Join("inputs", fmt.Sprint(n), filepath.Base(local))
				if err := b.attach(local, name); err != nil {
					return nil, err
				}
				out["location"] = name
				delete(out, "path")
				delete(out, "listing") // the daemon lists the directory it receives
			}
			return out, nil
		}
		return v, nil
	}
	out, err := walk(inputs)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// localFile is the local path of a File or Directory object, or "".
func localFile(m map[string]any) string {
	if c := m["class"]; c != "File" && c != "Directory" {
		return ""
	}
	loc, _ := m["location"].(string)
	if loc == "" {
		loc, _ = m["path"].(string)
	}
	switch {
	case strings.HasPrefix(loc, "file://"):
		return schema.URIPath(loc)
	case filepath.IsAbs(loc):
		return loc
	}
	return ""
}

// attach adds the file, or every file under the directory, at name.
func (b *Bundle) attach(local, name string) error {
	return filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cannot send input %s: %w", local, err)
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(local, p)
		b.Files = append(b.Files, File{Name: path.Join(name, filepath.ToSlash(rel)), Path: p})
		return nil
	})
}

// commonDir is the deepest directory holding every path.
func commonDir(paths []string) string {
	dir := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for dir != "/" && !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			dir = filepath.Dir(dir)
		}
	}
	return dir
}
