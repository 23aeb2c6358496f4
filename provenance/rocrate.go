package provenance

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The profiles a flow crate conforms to. Provenance Run Crate extends
// Workflow Run Crate, which extends Process Run Crate and Workflow RO-Crate.
var (
	crateSpec     = profile{"https://w3id.org/ro/crate/1.1", "RO-Crate", "1.1"}
	crateProfiles = []profile{
		{"https://w3id.org/ro/wfrun/process/0.5", "Process Run Crate", "0.5"},
		{"https://w3id.org/ro/wfrun/workflow/0.5", "Workflow Run Crate", "0.5"},
		{"https://w3id.org/ro/wfrun/provenance/0.5", "Provenance Run Crate", "0.5"},
		{"https://w3id.org/workflowhub/workflow-ro-crate/1.0", "Workflow RO-Crate", "1.0"},
	}
	// The workflow-run context adds "sha1" (and ParameterConnection) to
	// the RO-Crate 1.1 terms.
	crateContext = []string{"https://w3id.org/ro/crate/1.1/context", "https://w3id.org/ro/terms/workflow-run/context"}
)

type profile struct{ id, name, version string }

// entity is one node of the JSON-LD graph.
type entity = map[string]any

func ref(id string) entity { return entity{"@id": id} }

// WriteROCrate exports a run as a Workflow Run RO-Crate, at the level of
// detail of the Provenance Run Crate profile, into dir (which must be
// empty or not exist): the workflow document and every document it loaded
// (at their relative paths), the run's input and output files that still
// hold the recorded content (under inputs/ and outputs/), job.json (the
// run's input object naming the copies, so that `flow run WORKFLOW
// job.json` in the crate runs it again), and ro-crate-metadata.json
// describing the run, each step attempt with
// its tool, command and files, and the files every step used and made.
// Intermediate files, and files that are gone or have changed since the
// run, are described by checksum but not copied.
func WriteROCrate(ctx context.Context, s Store, runID, dir string) error {
	return WriteROCrateWith(ctx, s, runID, dir, ROCrateOptions{})
}

// ROCrateOptions tunes WriteROCrateWith.
type ROCrateOptions struct {
	// Documents stand in for the documents a run recorded when it
	// recorded none (runs from before flow kept them): the files its
	// workflow loads now, which cannot be checked against the run.
	Documents []string
}

// WriteROCrateWith is WriteROCrate with options.
func WriteROCrateWith(ctx context.Context, s Store, runID, dir string, opts ROCrateOptions) error {
	run, err := s.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	if len(run.Documents) == 0 {
		for _, d := range opts.Documents {
			run.Documents = append(run.Documents, FileRef{Path: d})
		}
	}
	atts, err := s.Attempts(ctx, run.ID)
	if err != nil {
		return err
	}
	if err := prepareCrateDir(dir); err != nil {
		return err
	}
	c := &crate{dir: dir, run: run, byID: map[string]entity{}, bySum: map[string]string{}, byPath: map[string]string{},
		used: map[string]bool{}, tools: map[string]string{}, steps: map[string]string{}}
	c.addHeader()
	c.addWorkflow()
	if err := c.addRun(); err != nil {
		return err
	}
	if err := c.addSteps(atts); err != nil {
		return err
	}
	if err := c.addJob(); err != nil {
		return err
	}
	return c.write()
}

func prepareCrateDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot use %s for the RO-Crate: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("cannot write the RO-Crate into %s: the directory is not empty", dir)
	}
	for _, sub := range []string{dir, filepath.Join(dir, "inputs"), filepath.Join(dir, "outputs")} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("cannot create the RO-Crate directory %s: %w", sub, err)
		}
	}
	return nil
}

// crate builds the graph; entities are kept in the order they were added,
// so the file reads top-down: descriptor, root, workflow, run, steps.
type crate struct {
	dir    string
	run    *Run
	graph  []entity
	byID   map[string]entity
	bySum  map[string]string // sha1 → file entity @id: one entity per content
	byPath map[string]string // original path → crate path of a copied file
	used   map[string]bool   // relative paths taken in the crate
	tools  map[string]string // process → @id
	steps  map[string]string // step ID → @id of its HowToStep
	root   entity
	wf     entity
	wfID   string
}

func (c *crate) add(e entity) entity {
	if old, ok := c.byID[e["@id"].(string)]; ok {
		return old
	}
	c.graph = append(c.graph, e)
	c.byID[e["@id"].(string)] = e
	return e
}

// uniqueID returns id, or id with a number added if id is taken.
func (c *crate) uniqueID(id string) string {
	base := id
	for i := 2; c.byID[id] != nil; i++ {
		id = fmt.Sprintf("%s-%d", base, i)
	}
	return id
}

// appendRef adds a reference to e[prop], which holds a list.
func appendRef(e entity, prop, id string) {
	list, _ := e[prop].([]any)
	for _, r := range list {
		if r.(entity)["@id"] == id {
			return
		}
	}
	e[prop] = append(list, ref(id))
}

func (c *crate) addHeader() {
	c.add(entity{
		"@id": "ro-crate-metadata.json", "@type": "CreativeWork",
		"about":      ref("./"),
		"conformsTo": []any{ref(crateSpec.id), ref(crateProfiles[3].id)},
	})
	var conforms []any
	for _, p := range crateProfiles {
		conforms = append(conforms, ref(p.id))
	}
	c.root = c.add(entity{
		"@id": "./", "@type": "Dataset",
		"name":          fmt.Sprintf("flow run %s of %s", c.run.ID, path.Base(docPath(c.run.Workflow))),
		"description":   fmt.Sprintf("Provenance of flow run %s: the workflow, its inputs and outputs, and every step it ran.", c.run.ID),
		"datePublished": time.Now().UTC().Format(time.RFC3339),
		"conformsTo":    conforms,
		"hasPart":       []any{},
	})
	for _, p := range append([]profile{crateSpec}, crateProfiles...) {
		c.add(entity{"@id": p.id, "@type": "CreativeWork", "name": p.name, "version": p.version})
	}
	c.add(entity{
		"@id": "https://w3id.org/workflowhub/workflow-ro-crate#cwl", "@type": "ComputerLanguage",
		"name": "Common Workflow Language", "alternateName": "CWL",
		"identifier": "https://w3id.org/cwl/v1.2/", "url": "https://www.commonwl.org/", "version": "v1.2",
	})
}

// docPath is the document part of a "path#fragment" process reference.
func docPath(process string) string {
	doc, _, _ := strings.Cut(process, "#")
	if u, err := url.Parse(doc); err == nil && u.Scheme == "file" {
		return u.Path
	}
	return doc
}

// addWorkflow copies the workflow document, and every other document the
// run loaded at its path relative to the workflow's, into the crate, and
// makes the workflow the main entity. The documents keep their layout
// (under the deepest folder holding them all), so that `run:
// tools/x.cwl` resolves inside the crate and the crate runs as it is.
func (c *crate) addWorkflow() {
	src := docPath(c.run.Workflow)
	root := filepath.Dir(src)
	for _, d := range c.run.Documents {
		root = commonDir(root, filepath.Dir(d.Path))
	}
	c.wfID = c.claimName("", docRel(root, src))
	c.wf = c.add(entity{
		"@id":                 c.wfID,
		"@type":               []any{"File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"},
		"name":                path.Base(filepath.ToSlash(src)),
		"alternateName":       c.run.Workflow,
		"programmingLanguage": ref("https://w3id.org/workflowhub/workflow-ro-crate#cwl"),
		"input":               []any{}, "output": []any{}, "hasPart": []any{}, "step": []any{},
	})
	c.root["mainEntity"] = ref(c.wfID)
	appendRef(c.root, "hasPart", c.wfID)
	if err := c.copyWorkflow(src); err != nil {
		c.wf["description"] = "The workflow document could not be included: " + err.Error()
	}
	for _, d := range c.run.Documents {
		if filepath.Clean(d.Path) != filepath.Clean(src) {
			c.addDocument(root, d)
		}
	}
}

// addDocument copies a document the workflow loaded (a tool, an $import,
// an $include'd text) to its place in the crate.
func (c *crate) addDocument(root string, d FileRef) {
	id := c.claimName("", docRel(root, d.Path))
	e := entity{"@id": id, "@type": []any{"File", "SoftwareSourceCode"}, "name": path.Base(id), "alternateName": d.Path,
		"description": "A document the workflow loads (run:, $import or $include)."}
	if strings.HasSuffix(id, ".cwl") {
		e["programmingLanguage"] = ref("https://w3id.org/workflowhub/workflow-ro-crate#cwl")
	}
	dst := filepath.Join(c.dir, filepath.FromSlash(id))
	err := os.MkdirAll(filepath.Dir(dst), 0o755)
	var sum string
	var size int64
	if err == nil {
		sum, size, err = copyFileHashed(d.Path, dst)
	}
	switch {
	case err != nil:
		e["description"] = "A document the workflow loads; it could not be included: " + err.Error()
	case d.SHA1 != "" && sum != d.SHA1:
		e["description"] = "A document the workflow loads; it has changed since the run: its sha1 is no longer " + hexOf(d.SHA1) + "."
	}
	if err == nil {
		e["sha1"], e["contentSize"] = hexOf(sum), strconv.FormatInt(size, 10)
	}
	c.add(e)
	appendRef(c.root, "hasPart", id)
	appendRef(c.wf, "hasPart", id)
}

// commonDir is the deepest directory holding both a and b.
func commonDir(a, b string) string {
	for a != filepath.Dir(a) {
		if rel, err := filepath.Rel(a, b); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return a
		}
		a = filepath.Dir(a)
	}
	return a
}

// docRel is p relative to root, with slashes, as a crate path.
func docRel(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path.Base(filepath.ToSlash(p))
	}
	return filepath.ToSlash(rel)
}

func (c *crate) copyWorkflow(src string) error {
	dst := filepath.Join(c.dir, filepath.FromSlash(c.wfID))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	sum, size, err := copyFileHashed(src, dst)
	if err != nil {
		return err
	}
	c.wf["sha1"], c.wf["contentSize"] = hexOf(sum), strconv.FormatInt(size, 10)
	if want, ok := strings.CutPrefix(c.run.WorkflowDigest, "sha256:"); ok {
		got, err := sha256File(src)
		if err == nil && got != want {
			c.wf["description"] = "This document has changed since the run: its sha256 is no longer " + want + "."
		}
	}
	return nil
}

func sha256File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// claimName returns a free relative path dir/name in the crate, adding
// -2, -3... before the extension when name is taken.
func (c *crate) claimName(dir, name string) string {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	cand := path.Join(dir, name)
	for i := 2; c.used[cand] || cand == "ro-crate-metadata.json"; i++ {
		cand = path.Join(dir, fmt.Sprintf("%s-%d%s", stem, i, ext))
	}
	c.used[cand] = true
	return cand
}

// file returns the @id of the entity for a file's content, adding it on
// first sight. With a folder ("inputs", "outputs") a file that still holds
// the recorded content is copied there; otherwise it is described only.
func (c *crate) file(f FileRef, folder string) (string, error) {
	if id, ok := c.bySum[f.SHA1]; ok && f.SHA1 != "" {
		return id, nil
	}
	e := entity{"@type": "File", "name": path.Base(filepath.ToSlash(f.Path)), "alternateName": f.Path}
	if f.Size > 0 {
		e["contentSize"] = strconv.FormatInt(f.Size, 10)
	}
	id, err := c.copyInto(f, folder, e)
	if err != nil {
		return "", err
	}
	if id == "" { // described, not included
		id = c.uniqueID("#file-" + hexOf(f.SHA1))
		if f.SHA1 == "" {
			id = c.uniqueID("#file-" + url.PathEscape(f.Path))
		}
	}
	e["@id"] = id
	if f.SHA1 != "" {
		e["sha1"] = hexOf(f.SHA1)
		c.bySum[f.SHA1] = id
	}
	c.add(e)
	return id, nil
}

// copyInto copies f into folder and returns its crate path, or "" (and a
// description in e) when it is not to be or cannot be copied.
func (c *crate) copyInto(f FileRef, folder string, e entity) (string, error) {
	switch {
	case folder == "":
		e["description"] = "An intermediate file, described but not included in the crate."
		return "", nil
	case !fileExists(f.Path):
		e["description"] = "No longer at " + f.Path + ", so not included in the crate."
		return "", nil
	}
	rel := c.claimName(folder, path.Base(filepath.ToSlash(f.Path)))
	dst := filepath.Join(c.dir, filepath.FromSlash(rel))
	sum, size, err := copyFileHashed(f.Path, dst)
	if err != nil {
		return "", fmt.Errorf("cannot write the RO-Crate: %w", err)
	}
	if f.SHA1 != "" && sum != f.SHA1 {
		_ = os.Remove(dst)
		delete(c.used, rel)
		e["description"] = f.Path + " has changed since the run, so it is not included in the crate."
		return "", nil
	}
	e["sha1"], e["contentSize"] = hexOf(sum), strconv.FormatInt(size, 10)
	if f.SHA1 == "" {
		c.bySum[sum] = rel
	}
	appendRef(c.root, "hasPart", rel)
	c.byPath[f.Path] = rel
	return rel, nil
}

func (c *crate) write() error {
	js, err := json.MarshalIndent(entity{"@context": crateContext, "@graph": c.graph}, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode the RO-Crate metadata: %w", err)
	}
	p := filepath.Join(c.dir, "ro-crate-metadata.json")
	if err := os.WriteFile(p, append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("cannot write the RO-Crate metadata %s: %w", p, err)
	}
	return nil
}

// addJob writes the run's input object as job.json, its files' locations
// relative to the crate (job.json sits at its top), so that the crate
// runs again where it is unpacked. Files not in the crate keep their
// recorded locations.
func (c *crate) addJob() error {
	if c.run.Inputs == nil {
		return nil
	}
	job := c.relocate(c.run.Inputs).(map[string]any)
	js, err := json.MarshalIndent(job, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode the run's inputs for the RO-Crate: %w", err)
	}
	id := c.claimName("", "job.json")
	p := filepath.Join(c.dir, id)
	if err := os.WriteFile(p, append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("cannot write the RO-Crate's %s: %w", p, err)
	}
	data := append(js, '\n')
	sum := sha1.Sum(data)
	c.add(entity{"@id": id, "@type": "File", "name": id, "encodingFormat": "application/json",
		"sha1": hex.EncodeToString(sum[:]), "contentSize": strconv.Itoa(len(data)),
		"description": "The run's input object, naming the input files in this crate: flow run " + c.wfID + " " + id})
	appendRef(c.root, "hasPart", id)
	return nil
}

// relocate copies an input value with File locations pointing at the
// crate's copies.
func (c *crate) relocate(v any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = c.relocate(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = c.relocate(e)
		}
		if t["class"] == "File" {
			if rel, ok := c.byPath[cwlPath(t)]; ok {
				out["location"] = rel
				delete(out, "path")
				delete(out, "dirname")
			}
		}
		return out
	}
	return v
}
