package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/internal/confine"
	"github.com/flow-cwl/flow/schema"
)

// collectOutputs builds a finished job's output object: from
// cwl.output.json when the tool wrote one, else from each output's
// binding (glob, loadContents, outputEval, secondaryFiles, format).
func (e *Engine) collectOutputs(ctx context.Context, j *job) (map[string]any, error) {
	custom := filepath.Join(j.outdir, "cwl.output.json")
	if data, err := os.ReadFile(custom); err == nil {
		out, err := e.customOutputs(j, data)
		if err != nil {
			return nil, err
		}
		return out, j.confineOutputs(out)
	}
	out := make(map[string]any, len(j.p.Outputs))
	for _, o := range j.p.Outputs {
		v, err := e.collectOutput(ctx, j, o)
		if errors.Is(err, errOutsideOutdir) {
			return nil, fmt.Errorf("step %q: output %q: %w", j.name, o.ID, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: output %q: %w", shortName(j.p), o.ID, err)
		}
		out[o.ID] = v
	}
	return out, j.confineOutputs(out)
}

func (e *Engine) customOutputs(j *job, data []byte) (map[string]any, error) {
	n, err := schema.ParseBytes(data, filepath.Join(j.outdir, "cwl.output.json"), schema.FileURI(j.outdir)+"/")
	if err != nil {
		return nil, err
	}
	m, ok := n.Plain().(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: cwl.output.json must hold an object", shortName(j.p))
	}
	for k, v := range m {
		v, err := e.finishFiles(j, v)
		if errors.Is(err, errOutsideOutdir) {
			return nil, fmt.Errorf("step %q: output %q: %w", j.name, k, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: cwl.output.json: %w", shortName(j.p), err)
		}
		m[k] = v
	}
	return m, nil
}

func (e *Engine) collectOutput(ctx context.Context, j *job, o *schema.Parameter) (any, error) {
	ob := o.OutputBinding
	if ob == nil {
		return e.collectRecord(ctx, j, o.Type)
	}
	var result any
	var files []any
	if ob.Glob != nil {
		var err error
		if files, err = j.glob(ob.Glob); err != nil {
			return nil, err
		}
		for _, f := range files {
			m := f.(map[string]any)
			if ob.LoadContents && m["class"] == "File" {
				if err := loadContents(m); err != nil {
					return nil, err
				}
			}
		}
		if err := loadListings(ctx, files, listingDepth(ob.LoadListing, j.pe)); err != nil {
			return nil, err
		}
	}
	result = files
	if ob.OutputEval != "" {
		v, err := j.ev.Eval(ob.OutputEval, expr.Context{Inputs: j.inputs, Self: nonNil(files), Runtime: j.rt})
		if err != nil {
			return nil, err
		}
		if result, err = e.finishFiles(j, v); err != nil {
			return nil, err
		}
	} else if single(o.Type) {
		switch len(files) {
		case 0:
			result = nil
		case 1:
			result = files[0]
		default:
			return nil, fmt.Errorf("glob matched %d files but the output is a single %s", len(files), o.Type)
		}
	}
	for _, f := range topFiles(result) {
		if err := e.addSecondaryFiles(f, o.Secondary, false, true, j.inputs, j.ev); err != nil {
			return nil, err
		}
		if o.Format != nil {
			format, ok, err := evalOutputFormat(o.Format, f, j)
			if err != nil {
				return nil, err
			}
			if ok {
				f["format"] = format
			}
		}
	}
	return result, nil
}

func nonNil(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// single reports whether an output type wants one File or Directory
// rather than a list of the glob's matches.
func single(t *schema.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case schema.TFile, schema.TDirectory:
		return true
	case schema.TUnion:
		for _, u := range t.Union {
			if u.Kind == schema.TArray || u.Kind == schema.TAny {
				return false
			}
		}
		for _, u := range t.Union {
			if u.Kind == schema.TFile || u.Kind == schema.TDirectory {
				return true
			}
		}
	}
	return false
}

// glob evaluates glob patterns in the output directory and returns the
// matches as File and Directory objects, sorted by name per pattern.
func (j *job) glob(g any) ([]any, error) {
	v, err := j.eval(g, nil)
	if err != nil {
		return nil, err
	}
	var out []any
	seen := map[string]bool{}
	for _, p := range asList(v) {
		pat, ok := p.(string)
		if !ok {
			return nil, fmt.Errorf("glob must give text, got %s", schema.Describe(p))
		}
		full := j.local(pat) // a container's path, say, is the host's again
		if !filepath.IsAbs(pat) {
			full = filepath.Join(j.outdir, pat)
		}
		matches, err := filepath.Glob(full)
		if err != nil {
			return nil, fmt.Errorf("bad glob pattern %q: %w", pat, err)
		}
		sort.Strings(matches)
		for _, m := range matches {
			if seen[m] {
				continue
			}
			seen[m] = true
			if m != j.outdir && !strings.HasPrefix(m, j.outdir+"/") {
				return nil, fmt.Errorf("glob %q matched %s, which is outside the output directory", pat, m)
			}
			if err := j.checkSymlink(m); err != nil {
				return nil, err
			}
			obj, err := outputObject(m)
			if err != nil {
				return nil, err
			}
			out = append(out, obj)
		}
	}
	return out, nil
}

// outputObject describes a path produced by a job.
func outputObject(p string) (map[string]any, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return fileObject("Directory", p), nil
	}
	m := fileObject("File", p)
	m["size"] = st.Size()
	return m, nil
}

// finishFiles completes File and Directory objects that an expression or
// cwl.output.json produced: locations relative to the output directory
// are resolved, literals are written into it.
func (e *Engine) finishFiles(j *job, v any) (any, error) {
	err := walkFiles(v, func(m map[string]any) error {
		loc, _ := m["location"].(string)
		if p, ok := m["path"].(string); ok && loc == "" {
			loc = p
		}
		switch {
		case loc == "":
			base, _ := m["basename"].(string)
			if base == "" {
				return errors.New("a File or Directory without location, path or basename")
			}
			dst := filepath.Join(j.outdir, base)
			if err := j.checkLiteral(m); err != nil {
				return err
			}
			if err := writeObject(j.ctx, m, dst, j.local); err != nil {
				return err
			}
			loc = dst
		case strings.HasPrefix(loc, "file:"):
			loc = j.unstaged(j.local(schema.URIPath(loc)))
		case !filepath.IsAbs(loc):
			loc = filepath.Join(j.outdir, loc)
		default:
			loc = j.unstaged(j.local(loc))
		}
		m["location"], m["path"] = schema.FileURI(loc), loc
		if _, err := os.Stat(loc); err != nil {
			return fmt.Errorf("%s %s does not exist", m["class"], loc)
		}
		if b, _ := m["basename"].(string); b == "" {
			m["basename"] = filepath.Base(loc)
		}
		fillNames(m)
		return nil
	})
	return v, err
}

// collectRecord collects an output of record type without a binding of
// its own, field by field.
func (e *Engine) collectRecord(ctx context.Context, j *job, t *schema.Type) (any, error) {
	var rec *schema.Type
	if t != nil && t.Kind == schema.TRecord {
		rec = t
	} else if t != nil && t.Kind == schema.TUnion {
		for _, u := range t.Union {
			if u.Kind == schema.TRecord {
				rec = u
			}
		}
	}
	if rec == nil {
		return nil, nil
	}
	out := make(map[string]any, len(rec.Fields))
	for _, f := range rec.Fields {
		v, err := e.collectOutput(ctx, j, f)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.ID, err)
		}
		out[f.ID] = v
	}
	return out, nil
}

// checkSymlink refuses an output that is a symlink to somewhere other than
// the job's output directory or one of its inputs: such a file would not
// exist where the output is read (on another node, or in a container).
func (j *job) checkSymlink(p string) error {
	if !isSymlink(p) {
		return nil
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("output %s is a broken symlink", filepath.Base(p))
	}
	if !inside(real, j.sources()) {
		return fmt.Errorf("output %s is a symlink to %s, outside the output directory: %w", filepath.Base(p), real, ErrPermanentFail)
	}
	return nil
}

// sources lists, symlinks resolved, where a job's outputs may be: its
// output directory, what InitialWorkDirRequirement staged, and its
// inputs (Files, and Directories with what is inside them).
func (j *job) sources() []string {
	allowed := []string{j.outdir}
	if r, err := filepath.EvalSymlinks(j.outdir); err == nil && r != j.outdir {
		allowed = append(allowed, r)
	}
	for _, s := range j.staged {
		if r, err := filepath.EvalSymlinks(s); err == nil {
			allowed = append(allowed, r)
		}
	}
	return append(allowed, inputSources(j.inputs)...)
}

// inputSources resolves the paths of the Files and Directories of an
// input object (by path and by location, which staging may set apart).
func inputSources(inputs map[string]any) []string {
	var out []string
	_ = walkFiles(inputs, func(m map[string]any) error {
		for _, q := range []string{localPath(m), schema.URIPath(fmt.Sprint(m["location"]))} {
			if r, err := filepath.EvalSymlinks(q); err == nil {
				out = append(out, r)
			}
		}
		return nil
	})
	return out
}

// inside reports whether the resolved path real is one of dirs or inside
// one of them.
func inside(real string, dirs []string) bool {
	for _, d := range dirs {
		if confine.Within(real, d) {
			return true
		}
	}
	return false
}

// confineOutputs refuses an output File or Directory (secondary files and
// listings included) that is neither inside the job's output directory
// nor one of its inputs, as globs outside the output directory are: an
// outputEval or a cwl.output.json could otherwise name any file of the
// machine (under flowd, another team's results or the daemon's key) and
// the run would hand it on as its own output. Paths are judged after
// symlinks are resolved, and a Directory the tool made may hold no
// symlink that leads outside either.
func (j *job) confineOutputs(out map[string]any) error {
	outdir := j.outdir
	if r, err := filepath.EvalSymlinks(j.outdir); err == nil {
		outdir = r
	}
	allowed := lazySources(j.sources)
	for _, k := range sortedKeys(out) {
		err := walkFiles(out[k], func(m map[string]any) error {
			return checkOutputFile(m, outdir, allowed, errOutsideOutdir)
		})
		if err != nil {
			return fmt.Errorf("step %q: output %q: %w", j.name, k, err)
		}
	}
	return nil
}

// lazySources computes sources once, when first asked: most outputs are
// in the output directory, and then a job's inputs need not be resolved.
func lazySources(sources func() []string) func() []string {
	var once sync.Once
	var dirs []string
	return func() []string {
		once.Do(func() { dirs = sources() })
		return dirs
	}
}

// checkLiteral refuses a Directory literal an expression returned whose
// listing (or a secondary file) names a file that confineOutputs would
// refuse as an output: writing the literal copies those files into the
// output directory, where they would pass as the job's own.
func (j *job) checkLiteral(m map[string]any) error {
	var located []any
	for _, k := range []string{"listing", "secondaryFiles"} {
		located = append(located, asList(m[k])...)
	}
	allowed := lazySources(j.sources)
	return walkFiles(located, func(c map[string]any) error {
		p := localPath(c)
		if p == "" {
			return nil
		}
		host := map[string]any{"class": c["class"], "location": c["location"], "path": j.local(p)}
		return checkOutputFile(host, "", allowed, errOutsideOutdir)
	})
}

// The reasons an output is refused: a tool's is outside its output
// directory; an ExpressionTool, which writes nothing, may only pass on
// its inputs.
var (
	errOutsideOutdir = errors.New("is outside the job's output directory")
	errNotAnInput    = errors.New("is not one of the ExpressionTool's inputs")
)

// checkOutputFile checks one output File or Directory: it must lead into
// made (the resolved directory the job wrote; "" for none) or into one of
// the allowed sources. The symlinks inside a Directory under made are
// checked too; an input Directory passed on is the input's as it stands.
func checkOutputFile(m map[string]any, made string, allowed func() []string, why error) error {
	p := localPath(m)
	if p == "" {
		return nil
	}
	real, err := confine.Resolve(p)
	if err != nil || !(confine.Within(real, made) || inside(real, allowed())) {
		return fmt.Errorf("location %q %w: %w", fmt.Sprint(m["location"]), why, ErrPermanentFail)
	}
	if m["class"] != "Directory" || !confine.Within(real, made) {
		return nil
	}
	return filepath.WalkDir(real, func(q string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		if r, err := confine.Resolve(q); err != nil || !(confine.Within(r, made) || inside(r, allowed())) {
			rel, _ := filepath.Rel(real, q)
			return fmt.Errorf("Directory %q holds %s, a symlink that %w: %w", fmt.Sprint(m["location"]), rel, why, ErrPermanentFail)
		}
		return nil
	})
}
