package dag

import (
	"container/heap"
	"fmt"
	"slices"
)

// sort fills g.order, g.deps and g.dependents with Kahn's algorithm, taking
// ready steps in declaration order. If steps are left over, they contain a
// cycle, and sort returns a CycleError describing one.
func (g *Graph) sort() error {
	succ, err := g.edges.AdjacencyMap()
	if err != nil {
		return fmt.Errorf("reading the step graph: %w", err)
	}
	pred, err := g.edges.PredecessorMap()
	if err != nil {
		return fmt.Errorf("reading the step graph: %w", err)
	}
	g.deps = sortedKeys(pred)
	g.dependents = sortedKeys(succ)

	waiting := make(map[string]int, len(g.steps)) // unfinished dependencies
	ready := &indexHeap{}
	for i, st := range g.steps {
		waiting[st.ID] = len(pred[st.ID])
		if waiting[st.ID] == 0 {
			*ready = append(*ready, i)
		}
	}
	heap.Init(ready)
	g.order = make([]string, 0, len(g.steps))
	for ready.Len() > 0 {
		id := g.steps[heap.Pop(ready).(int)].ID
		g.order = append(g.order, id)
		for _, next := range g.dependents[id] {
			if waiting[next]--; waiting[next] == 0 {
				heap.Push(ready, g.index[next])
			}
		}
	}
	if len(g.order) == len(g.steps) {
		return nil
	}
	return &CycleError{Steps: g.findCycle(waiting)}
}

// findCycle returns one cycle among the steps that sort could not order.
// Every such step still waits for another such step, so walking from any
// of them to a waiting dependency must revisit a step; the steps between
// the two visits are a cycle. The walk goes against the data flow, so the
// result is reversed, then rotated to start at its first-declared step to
// keep the message stable.
func (g *Graph) findCycle(waiting map[string]int) []string {
	var start string
	for _, st := range g.steps {
		if waiting[st.ID] > 0 {
			start = st.ID
			break
		}
	}
	seen := map[string]int{} // step -> position in walk
	var walk []string
	for cur := start; ; {
		if at, ok := seen[cur]; ok {
			walk = walk[at:]
			break
		}
		seen[cur] = len(walk)
		walk = append(walk, cur)
		for _, dep := range g.deps[cur] {
			if waiting[dep] > 0 {
				cur = dep
				break
			}
		}
	}
	slices.Reverse(walk)
	first := 0
	for i, id := range walk {
		if g.index[id] < g.index[walk[first]] {
			first = i
		}
	}
	return append(walk[first:], walk[:first]...)
}

// sortedKeys turns an adjacency map into sorted neighbour lists, leaving
// out vertices without neighbours.
func sortedKeys[E any](m map[string]map[string]E) map[string][]string {
	out := make(map[string][]string, len(m))
	for v, nbrs := range m {
		if len(nbrs) == 0 {
			continue
		}
		ids := make([]string, 0, len(nbrs))
		for id := range nbrs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		out[v] = ids
	}
	return out
}

// indexHeap is a min-heap of step positions.
type indexHeap []int

func (h indexHeap) Len() int           { return len(h) }
func (h indexHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h indexHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *indexHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *indexHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
