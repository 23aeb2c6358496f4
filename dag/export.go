package dag

// Drawing is the graph as DOT and Mermaid draw it, for drawing it some
// other way (flowd's web interface lays it out in the browser): the same
// nodes and edges, as plain values.
type Drawing struct {
	Nodes []DrawnNode `json:"nodes"` // inputs, steps, outputs, each in declaration order
	Edges []DrawnEdge `json:"edges"`
}

// DrawnNode is a workflow input, step or output.
type DrawnNode struct {
	Kind string `json:"kind"` // "input", "step" or "output"
	ID   string `json:"id"`
}

// DrawnEdge joins two nodes, labelled with the step outputs it carries.
type DrawnEdge struct {
	From   DrawnNode `json:"from"`
	To     DrawnNode `json:"to"`
	Labels []string  `json:"labels,omitempty"`
}

// Drawing returns the nodes and edges DOT and Mermaid draw.
func (g *Graph) Drawing() Drawing {
	d := g.drawing()
	out := Drawing{Nodes: []DrawnNode{}, Edges: []DrawnEdge{}}
	for _, n := range d.nodes {
		out.Nodes = append(out.Nodes, n.drawn())
	}
	for _, e := range d.edges {
		out.Edges = append(out.Edges, DrawnEdge{From: e.from.drawn(), To: e.to.drawn(), Labels: e.labels})
	}
	return out
}

func (n node) drawn() DrawnNode {
	return DrawnNode{Kind: [...]string{inputNode: "input", stepNode: "step", outputNode: "output"}[n.kind], ID: n.id}
}
