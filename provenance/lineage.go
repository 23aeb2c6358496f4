package provenance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// MaxLineageDepth bounds how many steps back Lineage follows a file.
const MaxLineageDepth = 64

// LineageNode is one file in a lineage tree and the step that made it.
type LineageNode struct {
	File    FileRef
	Run     *Run     // the run of Attempt; nil for an input or if the run is gone
	Attempt *Attempt // the step attempt that generated File; nil for a workflow input
	Inputs  []*LineageNode
	// Repeated: the same content appears earlier in the tree, where its own
	// lineage is shown; its Inputs are left empty here (this also ends cycles).
	Repeated bool
	// Truncated: MaxLineageDepth was reached; the lineage goes on.
	Truncated bool
}

// Lineage explains where the file at path came from: the newest attempt
// that generated its content, the files that attempt used, and so on back
// to files no recorded step made (the workflow inputs).
//
// The path is looked up as recorded; a file flow never saw at that path
// (a copy, say) is found by hashing it, since lineage follows content.
func Lineage(ctx context.Context, s Store, path string) (*LineageNode, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve the path %s: %w", path, err)
	}
	ref, err := s.FileByPath(ctx, abs)
	if errors.Is(err, ErrNotFound) {
		sum, size, herr := hashFile(abs)
		if herr != nil {
			return nil, fmt.Errorf("flow has no record of %s, and it cannot be read to look it up by content: %w", abs, herr)
		}
		ref, err = FileRef{Path: abs, SHA1: sum, Size: size}, nil
	}
	if err != nil {
		return nil, err
	}
	l := &lineage{store: s, seen: map[string]bool{}, runs: map[string]*Run{}}
	return l.node(ctx, ref, 0)
}

type lineage struct {
	store Store
	seen  map[string]bool // contents already expanded
	runs  map[string]*Run
}

func (l *lineage) node(ctx context.Context, ref FileRef, depth int) (*LineageNode, error) {
	n := &LineageNode{File: ref}
	if l.seen[ref.SHA1] {
		n.Repeated = true
		return n, nil
	}
	l.seen[ref.SHA1] = true
	atts, err := l.store.GeneratedBy(ctx, ref.SHA1)
	if err != nil {
		return nil, err
	}
	if n.Attempt = pickMaker(atts); n.Attempt == nil {
		return n, nil
	}
	if n.Run, err = l.run(ctx, n.Attempt.RunID); err != nil {
		return nil, err
	}
	if depth+1 >= MaxLineageDepth {
		n.Truncated = len(n.Attempt.Used) > 0
		return n, nil
	}
	for _, in := range sortedRefs(n.Attempt.Used) {
		child, err := l.node(ctx, in, depth+1)
		if err != nil {
			return nil, err
		}
		n.Inputs = append(n.Inputs, child)
	}
	return n, nil
}

// pickMaker chooses among the attempts that generated a content (newest
// first) the newest that finished well; a failed attempt's leftovers only
// count when nothing else made the file.
func pickMaker(atts []*Attempt) *Attempt {
	if i := slices.IndexFunc(atts, func(a *Attempt) bool {
		return a.State == StepSucceeded || a.State == StepReused
	}); i >= 0 {
		return atts[i]
	}
	if len(atts) > 0 {
		return atts[0]
	}
	return nil
}

func (l *lineage) run(ctx context.Context, id string) (*Run, error) {
	if r, ok := l.runs[id]; ok {
		return r, nil
	}
	r, err := l.store.GetRun(ctx, id)
	if errors.Is(err, ErrNotFound) {
		r, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	l.runs[id] = r
	return r, nil
}

// sortedRefs orders a step's inputs by path, so the tree reads the same
// every time.
func sortedRefs(refs []FileRef) []FileRef {
	out := slices.Clone(refs)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// fileExists reports whether path names a regular file.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
