package dag

import (
	"strings"
	"testing"
)

func drawSpec() Spec {
	return Spec{
		Inputs: []string{"reads", `odd "id"`},
		Steps: []Step{
			{ID: "align", Outputs: []string{"bam", "log"}, Sources: []string{"reads", `odd "id"`}},
			{ID: "sort", Outputs: []string{"bam"}, Sources: []string{"align/bam", "align/log", "align/bam"}},
		},
		Outputs: []Output{{ID: "sorted", Sources: []string{"sort/bam"}}},
	}
}

func TestDOT(t *testing.T) {
	g, err := Build(drawSpec())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := g.DOT(&b); err != nil {
		t.Fatal(err)
	}
	want := `digraph workflow {
  rankdir=LR;
  "input:reads" [label="reads", shape=ellipse];
  "input:odd \"id\"" [label="odd \"id\"", shape=ellipse];
  "step:align" [label="align", shape=box];
  "step:sort" [label="sort", shape=box];
  "output:sorted" [label="sorted", shape=doubleoctagon];
  "input:reads" -> "step:align";
  "input:odd \"id\"" -> "step:align";
  "step:align" -> "step:sort" [label="bam, log"];
  "step:sort" -> "output:sorted" [label="bam"];
}
`
	if b.String() != want {
		t.Errorf("DOT:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestMermaid(t *testing.T) {
	g, err := Build(drawSpec())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := g.Mermaid(&b); err != nil {
		t.Fatal(err)
	}
	want := `flowchart LR
  i0(["reads"])
  i1(["odd #quot;id#quot;"])
  s0["align"]
  s1["sort"]
  o0[["sorted"]]
  i0 --> s0
  i1 --> s0
  s0 -->|"bam, log"| s1
  s1 -->|"bam"| o0
`
	if b.String() != want {
		t.Errorf("Mermaid:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestStepAndInputWithTheSameIDAreDistinctNodes(t *testing.T) {
	g, err := Build(Spec{Inputs: []string{"x"}, Steps: []Step{{ID: "x", Sources: []string{"x"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := g.DOT(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"input:x" -> "step:x";`) {
		t.Errorf("DOT does not link input x to step x:\n%s", b.String())
	}
}

// Drawing has the nodes and edges DOT draws, as values.
func TestDrawingMatchesDOT(t *testing.T) {
	g, err := Build(Spec{
		Inputs:  []string{"reads"},
		Steps:   []Step{{ID: "align", Outputs: []string{"bam"}, Sources: []string{"reads"}}, {ID: "count", Outputs: []string{"n"}, Sources: []string{"align/bam"}}},
		Outputs: []Output{{ID: "total", Sources: []string{"count/n"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := g.Drawing()
	var nodes []string
	for _, n := range d.Nodes {
		nodes = append(nodes, n.Kind+":"+n.ID)
	}
	if got := strings.Join(nodes, " "); got != "input:reads step:align step:count output:total" {
		t.Errorf("nodes: %s", got)
	}
	if len(d.Edges) != 3 || d.Edges[1].From.ID != "align" || d.Edges[1].To.ID != "count" || strings.Join(d.Edges[1].Labels, ",") != "bam" {
		t.Errorf("edges: %+v", d.Edges)
	}
}
