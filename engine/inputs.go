package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/internal/digest"
	"github.com/flow-cwl/flow/schema"
)

// bindInputs turns the input object given to process p into the one its
// expressions and command line see: defaults filled, values checked
// against their types, File and Directory objects completed (names, size,
// secondaryFiles, contents, listings) and literals written to disk.
func (e *Engine) bindInputs(ctx context.Context, p *schema.Process, given map[string]any, pe *procEnv, ev *expr.Evaluator) (map[string]any, error) {
	out := make(map[string]any, len(p.Inputs))
	for _, in := range p.Inputs {
		// Copy: the same value may feed several steps at once, and binding
		// completes File objects in place.
		v := deepCopy(given[in.ID])
		if v == nil && in.HasDefault {
			v = deepCopy(in.Default)
		}
		if !matches(in.Type, v) {
			if pe.discover && v != nil { // a wrong value: point at it
				return nil, &InputError{ID: in.ID, Err: inputError(p, in, v)}
			}
			return nil, fmt.Errorf("%s: %w", in.Pos, inputError(p, in, v))
		}
		out[in.ID] = coerce(in.Type, v)
	}
	for _, in := range p.Inputs {
		v, err := e.completeFiles(out[in.ID], in.ID)
		if err != nil {
			return nil, blame(pe, in.ID, err)
		}
		out[in.ID] = v
	}
	// Secondary files and contents may use expressions over all inputs.
	for _, in := range p.Inputs {
		if err := e.prepareInput(ctx, p, in, out, pe, ev); err != nil {
			return nil, blame(pe, in.ID, err)
		}
	}
	return out, nil
}

// InputError is a problem with one value of the top-level input object,
// so that a caller can point at the value where the user wrote it.
type InputError struct {
	ID  string // the input's id
	Err error
}

func (e *InputError) Error() string   { return e.Err.Error() }
func (e *InputError) Unwrap() error   { return e.Err }
func (e *InputError) InputID() string { return e.ID }

// blame marks err as the fault of input id when the process is the
// top-level one, whose inputs the user gave.
func blame(pe *procEnv, id string, err error) error {
	if !pe.discover {
		return err
	}
	return &InputError{ID: id, Err: err}
}

func inputError(p *schema.Process, in *schema.Parameter, v any) error {
	what := fmt.Sprintf("input %q of %s", in.ID, shortName(p))
	if v == nil {
		return fmt.Errorf("%s is required (type %s) but has no value", what, in.Type)
	}
	return fmt.Errorf("%s expects %s, got %s", what, in.Type, schema.Describe(v))
}

// completeFiles fills the derived fields of every File and Directory in v,
// checks that they exist, and writes literals (contents or listing with no
// location) to disk so every later stage sees real paths.
func (e *Engine) completeFiles(v any, inputID string) (any, error) {
	err := walkFiles(v, func(m map[string]any) error {
		return e.completeFile(m, inputID)
	})
	return v, err
}

func (e *Engine) completeFile(m map[string]any, inputID string) error {
	loc, _ := m["location"].(string)
	if p, ok := m["path"].(string); ok && loc == "" {
		loc = schema.FileURI(p)
		m["location"] = loc
	}
	if loc == "" || strings.HasPrefix(loc, "_:") {
		if err := e.writeLiteral(m); err != nil {
			return fmt.Errorf("input %q: %w", inputID, err)
		}
		return nil
	}
	if !strings.HasPrefix(loc, "file:") && !strings.HasPrefix(loc, "/") {
		return fmt.Errorf("input %q: %s location %q cannot be read; flow reads local files only", inputID, m["class"], loc)
	}
	path := schema.URIPath(loc)
	m["path"] = path
	if err := e.checkPath(m); err != nil {
		return fmt.Errorf("input %q: %w", inputID, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("input %q: %s %s does not exist", inputID, m["class"], path)
	}
	if (m["class"] == "Directory") != st.IsDir() {
		return fmt.Errorf("input %q: %s is not a %s", inputID, path, m["class"])
	}
	if m["class"] == "File" && !st.Mode().IsRegular() {
		// Reading a device or a FIFO may never end (/dev/zero), and
		// what it gives is not a file that can be hashed, cached or
		// staged twice alike.
		return fmt.Errorf("input %q: %s is %s, not a regular file", inputID, path, digest.Kind(st.Mode()))
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		e.inputs.LoadOrStore(real, path)
	}
	if m["class"] == "File" {
		m["size"] = st.Size()
	}
	if _, ok := m["basename"].(string); !ok {
		m["basename"] = filepath.Base(path)
	}
	fillNames(m)
	return nil
}

// writeLiteral gives a File literal ({class: File, contents: ...}) or a
// Directory literal ({class: Directory, listing: [...]}) a place on disk.
func (e *Engine) writeLiteral(m map[string]any) error {
	dir := filepath.Join(e.root, "literals", fmt.Sprint(e.literalSeq.Add(1)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base, _ := m["basename"].(string)
	if base == "" {
		base = randomBase(m["class"].(string))
	}
	path := filepath.Join(dir, base)
	if m["class"] == "File" {
		contents, _ := m["contents"].(string)
		if err := os.WriteFile(path, []byte(contents), 0o644); err != nil {
			return err
		}
	} else {
		if err := os.Mkdir(path, 0o755); err != nil {
			return err
		}
		for _, it := range asList(m["listing"]) {
			child, ok := it.(map[string]any)
			if !ok || !isFileOrDir(child) {
				continue
			}
			if err := e.placeInDir(child, path); err != nil {
				return err
			}
		}
	}
	m["location"] = schema.FileURI(path)
	m["path"] = path
	m["basename"] = base
	fillNames(m)
	if m["class"] == "File" {
		m["size"] = int64(len(m["contents"].(string)))
	}
	return nil
}

// placeInDir puts a File or Directory object (literal or real) inside dir
// under its basename, and updates the object to point there.
func (e *Engine) placeInDir(m map[string]any, dir string) error {
	base, _ := m["basename"].(string)
	src := localPath(m)
	if base == "" {
		base = filepath.Base(src)
	}
	dst := filepath.Join(dir, base)
	switch {
	case src != "":
		if err := e.checkPath(m); err != nil {
			return err
		}
		if err := copyTree(src, dst); err != nil {
			return err
		}
	case m["class"] == "File":
		c, _ := m["contents"].(string)
		if err := os.WriteFile(dst, []byte(c), 0o644); err != nil {
			return err
		}
	default:
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		for _, it := range asList(m["listing"]) {
			if child, ok := it.(map[string]any); ok && isFileOrDir(child) {
				if err := e.placeInDir(child, dst); err != nil {
					return err
				}
			}
		}
	}
	m["location"], m["path"], m["basename"] = schema.FileURI(dst), dst, base
	fillNames(m)
	return nil
}

// randomBase names a literal that has no basename; its folder is unique.
func randomBase(class string) string { return strings.ToLower(class) }

// prepareInput adds what the parameter asks for to the value of input in:
// secondary files, contents, directory listings, and checks formats.
func (e *Engine) prepareInput(ctx context.Context, p *schema.Process, in *schema.Parameter, all map[string]any, pe *procEnv, ev *expr.Evaluator) error {
	v := all[in.ID]
	if v == nil {
		return nil
	}
	if err := e.prepareValue(p, in, in.Type, v, all, ev, pe.discover); err != nil {
		return fmt.Errorf("input %q of %s: %w", in.ID, shortName(p), err)
	}
	return loadListings(ctx, v, listingDepth(in.LoadListing, pe))
}

// prepareValue applies parameter (or record field) spec to v, then the
// record fields' own specs to their values, at any depth.
func (e *Engine) prepareValue(p *schema.Process, spec *schema.Parameter, t *schema.Type, v any, all map[string]any, ev *expr.Evaluator, discover bool) error {
	if v == nil {
		return nil
	}
	files := topFiles(v)
	if len(spec.Secondary) > 0 {
		for _, f := range files {
			if err := e.addSecondaryFiles(f, spec.Secondary, true, discover, all, ev); err != nil {
				return err
			}
		}
	}
	if spec.LoadContents || (spec.InputBinding != nil && spec.InputBinding.LoadContents) {
		for _, f := range files {
			if err := loadContents(f); err != nil {
				return err
			}
		}
	}
	if err := checkFormat(spec, v, all, ev, p); err != nil {
		return err
	}
	for _, rec := range records(t, v) {
		for _, f := range rec.t.Fields {
			if err := e.prepareValue(p, f, f.Type, rec.v[f.ID], all, ev, discover); err != nil {
				return fmt.Errorf("field %q: %w", f.ID, err)
			}
		}
	}
	return nil
}

type recordValue struct {
	t *schema.Type
	v map[string]any
}

// records finds the record values in v (v itself, or the items of a list)
// together with their record types.
func records(t *schema.Type, v any) []recordValue {
	t = concreteType(t, v)
	if t == nil {
		return nil
	}
	switch t.Kind {
	case schema.TRecord:
		if m, ok := v.(map[string]any); ok {
			return []recordValue{{t, m}}
		}
	case schema.TArray:
		var out []recordValue
		for _, it := range asList(v) {
			out = append(out, records(t.Items, it)...)
		}
		return out
	}
	return nil
}

// topFiles returns the File objects of v: v itself, or the Files of a list
// (one level, as CWL applies secondaryFiles and loadContents).
func topFiles(v any) []map[string]any {
	var out []map[string]any
	if isClass(v, "File") {
		return []map[string]any{v.(map[string]any)}
	}
	if l, ok := v.([]any); ok {
		for _, it := range l {
			out = append(out, topFiles(it)...)
		}
	}
	return out
}

// listingDepth picks the loadListing in force: the parameter's own, else
// the LoadListingRequirement's, else no_listing.
func listingDepth(own string, pe *procEnv) string {
	if own != "" {
		return own
	}
	if r, ok := pe.find("LoadListingRequirement"); ok {
		if s, ok := r["loadListing"].(string); ok {
			return s
		}
	}
	return "no_listing"
}

// loadListings fills the listing of Directories in v that have none.
func loadListings(ctx context.Context, v any, depth string) error {
	if depth == "no_listing" || depth == "" {
		return nil
	}
	for _, it := range flatten(v) {
		m, ok := it.(map[string]any)
		if !ok || m["class"] != "Directory" {
			continue
		}
		if _, has := m["listing"]; has {
			continue
		}
		l, err := listDir(ctx, localPath(m), depth == "deep_listing")
		if err != nil {
			return err
		}
		m["listing"] = l
	}
	return nil
}

// flatten returns v's items when it is a list (recursively), else v.
func flatten(v any) []any {
	l, ok := v.([]any)
	if !ok {
		return []any{v}
	}
	var out []any
	for _, it := range l {
		out = append(out, flatten(it)...)
	}
	return out
}
