package dag

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// DOT writes the workflow as a Graphviz digraph: inputs as ellipses, steps
// as boxes, outputs as double octagons, and an edge for every source,
// labelled with the step output it reads. The output is deterministic.
func (g *Graph) DOT(w io.Writer) error {
	d := g.drawing()
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "digraph workflow {")
	fmt.Fprintln(bw, "  rankdir=LR;")
	shapes := [...]string{inputNode: "ellipse", stepNode: "box", outputNode: "doubleoctagon"}
	for _, n := range d.nodes {
		fmt.Fprintf(bw, "  %s [label=%s, shape=%s];\n", dotQuote(n.key()), dotQuote(n.id), shapes[n.kind])
	}
	for _, e := range d.edges {
		fmt.Fprintf(bw, "  %s -> %s", dotQuote(e.from.key()), dotQuote(e.to.key()))
		if len(e.labels) > 0 {
			fmt.Fprintf(bw, " [label=%s]", dotQuote(strings.Join(e.labels, ", ")))
		}
		fmt.Fprintln(bw, ";")
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

// Mermaid writes the workflow as a Mermaid flowchart, with the same nodes
// and edges as DOT: inputs as stadiums, steps as boxes, outputs as
// subroutine boxes. The output is deterministic.
func (g *Graph) Mermaid(w io.Writer) error {
	d := g.drawing()
	// Mermaid ids must be plain words, so nodes get positional ids and
	// their real ids go in the labels.
	ids := make(map[string]string, len(d.nodes))
	prefix := [...]string{inputNode: "i", stepNode: "s", outputNode: "o"}
	count := [3]int{}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "flowchart LR")
	for _, n := range d.nodes {
		id := fmt.Sprintf("%s%d", prefix[n.kind], count[n.kind])
		count[n.kind]++
		ids[n.key()] = id
		label := mermaidQuote(n.id)
		switch n.kind {
		case inputNode:
			fmt.Fprintf(bw, "  %s([%s])\n", id, label)
		case stepNode:
			fmt.Fprintf(bw, "  %s[%s]\n", id, label)
		case outputNode:
			fmt.Fprintf(bw, "  %s[[%s]]\n", id, label)
		}
	}
	for _, e := range d.edges {
		arrow := "-->"
		if len(e.labels) > 0 {
			arrow = "-->|" + mermaidQuote(strings.Join(e.labels, ", ")) + "|"
		}
		fmt.Fprintf(bw, "  %s %s %s\n", ids[e.from.key()], arrow, ids[e.to.key()])
	}
	return bw.Flush()
}

// drawing is the workflow reduced to what both formats draw.
type drawing struct {
	nodes []node // inputs, steps, outputs, each in declaration order
	edges []drawnEdge
}

// drawnEdge merges every link between the same two nodes into one edge
// labelled with the step outputs it carries.
type drawnEdge struct {
	from, to node
	labels   []string
}

func (n node) key() string {
	return [...]string{inputNode: "input:", stepNode: "step:", outputNode: "output:"}[n.kind] + n.id
}

func (g *Graph) drawing() drawing {
	var d drawing
	seen := map[string]bool{}
	add := func(n node) {
		if !seen[n.key()] {
			seen[n.key()] = true
			d.nodes = append(d.nodes, n)
		}
	}
	for _, in := range g.inputs {
		add(node{kind: inputNode, id: in})
	}
	for _, st := range g.steps {
		add(node{kind: stepNode, id: st.ID})
	}
	for _, o := range g.outputs {
		add(node{kind: outputNode, id: o.ID})
	}
	at := map[[2]string]int{} // (from, to) -> position in d.edges
	for _, l := range g.links {
		from := node{kind: l.from.kind, id: l.from.id}
		k := [2]string{from.key(), l.to.key()}
		i, ok := at[k]
		if !ok {
			i = len(d.edges)
			at[k] = i
			d.edges = append(d.edges, drawnEdge{from: from, to: l.to})
		}
		if l.from.output != "" && !slices.Contains(d.edges[i].labels, l.from.output) {
			d.edges[i].labels = append(d.edges[i].labels, l.from.output)
		}
	}
	return d
}

func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func mermaidQuote(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "\n", " ")
	return `"` + r.Replace(s) + `"`
}
