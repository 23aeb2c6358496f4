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
	Run     *Run     // the run of Attempt, or the run that delivered File; nil for an input or if the run is gone
	Attempt *Attempt // the step attempt that generated File; nil for a workflow input
	// Delivered: File is where Run put a final output of its own (the
	// root of a tree looked up by path).
	Delivered bool
	// OfRun: only this run's attempts were considered as makers of File,
	// the run known to have written or read it there.
	OfRun  string
	Inputs []*LineageNode
	// Repeated: the same content appears earlier in the tree, where its own
	// lineage is shown; its Inputs are left empty here (this also ends cycles).
	Repeated bool
	// Truncated: MaxLineageDepth was reached; the lineage goes on.
	Truncated bool
}

// LineageOptions tunes Lineage.
type LineageOptions struct {
	// ByContent looks the file up by what it holds: the newest run that
	// made the same bytes, wherever it put them. It is also how a file
	// flow has no record of at that path, or one that changed since, is
	// looked up.
	ByContent bool
}

// Lineage explains where the file at path came from: the run that wrote
// it there and the attempt of that run that generated it, the files that
// attempt used, the attempts that made those, and so on back to files no
// recorded step made (the workflow inputs).
//
// Two runs can make the same bytes, so by default the answer is for the
// run that wrote that path: the file must be one flow recorded there (an
// output a run delivered, or a file a step used or made) and must still
// hold what was recorded. opts.ByContent asks instead about the content,
// wherever it came from.
func Lineage(ctx context.Context, s Store, path string, opts LineageOptions) (*LineageNode, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve the path %s: %w", path, err)
	}
	l := &lineage{store: s, seen: map[string]bool{}, runs: map[string]*Run{}}
	ref, runID, delivered, err := s.WrittenBy(ctx, abs)
	if errors.Is(err, ErrNotFound) {
		if !opts.ByContent {
			return nil, fmt.Errorf("flow has no record of a run writing %s (--by-content looks for runs that made the same bytes)", abs)
		}
		err = nil
	}
	if err != nil {
		return nil, err
	}
	sum, size, herr := sumOf(ctx, s, abs)
	switch {
	case herr == nil && runID != "" && sum != ref.SHA1 && !opts.ByContent:
		return nil, fmt.Errorf("%s changed since run %s wrote it there: it holds %s, the run wrote %s (--by-content looks up what it holds now)",
			abs, runID, shortSum(sum), shortSum(ref.SHA1))
	case herr == nil && (opts.ByContent || runID == ""):
		return l.node(ctx, FileRef{Path: abs, SHA1: sum, Size: size}, "", 0)
	case herr != nil && runID == "":
		return nil, fmt.Errorf("flow has no record of %s, and it cannot be read to look it up by content: %w", abs, herr)
	}
	// The file is gone (lineage of what was there is still worth telling)
	// or holds what runID wrote.
	n, err := l.node(ctx, ref, runID, 0)
	if err != nil {
		return nil, err
	}
	n.Delivered = delivered
	if n.Run == nil {
		n.Run, err = l.run(ctx, runID)
	}
	return n, err
}

type lineage struct {
	store Store
	seen  map[string]bool // contents already expanded
	runs  map[string]*Run
}

// node explains ref; runID, when given, is the run known to have made it,
// whose attempts are preferred over other runs' making the same bytes.
func (l *lineage) node(ctx context.Context, ref FileRef, runID string, depth int) (*LineageNode, error) {
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
	if runID != "" {
		n.OfRun = runID
		atts = slices.DeleteFunc(atts, func(a *Attempt) bool { return a.RunID != runID })
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
		// What a step read was made by its own run, if by any step of it
		// (a file from an earlier run is looked up by content).
		maker := ""
		if others, err := l.store.GeneratedBy(ctx, in.SHA1); err == nil &&
			slices.ContainsFunc(others, func(a *Attempt) bool { return a.RunID == n.Attempt.RunID }) {
			maker = n.Attempt.RunID
		}
		child, err := l.node(ctx, in, maker, depth+1)
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
