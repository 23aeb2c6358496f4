package dag

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// diamond: in -> a -> (b, c) -> d -> out
func diamond() Spec {
	return Spec{
		Inputs: []string{"in"},
		Steps: []Step{
			{ID: "d", Outputs: []string{"o"}, Sources: []string{"b/o", "c/o", "c/o"}},
			{ID: "b", Outputs: []string{"o"}, Sources: []string{"a/o"}},
			{ID: "c", Outputs: []string{"o"}, Sources: []string{"a/o", "in"}},
			{ID: "a", Outputs: []string{"o"}, Sources: []string{"in"}},
		},
		Outputs: []Output{{ID: "out", Sources: []string{"d/o"}}},
	}
}

func TestOrderAndNeighbours(t *testing.T) {
	tests := []struct {
		name       string
		spec       Spec
		order      []string
		deps       map[string][]string
		dependents map[string][]string
	}{
		{
			name:       "diamond declared out of order",
			spec:       diamond(),
			order:      []string{"a", "b", "c", "d"},
			deps:       map[string][]string{"a": nil, "b": {"a"}, "c": {"a"}, "d": {"b", "c"}},
			dependents: map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": nil},
		},
		{
			name: "independent steps keep declaration order",
			spec: Spec{Inputs: []string{"x"}, Steps: []Step{
				{ID: "z", Sources: []string{"x"}}, {ID: "m"}, {ID: "a", Sources: []string{"x"}},
			}},
			order: []string{"z", "m", "a"},
			deps:  map[string][]string{"z": nil, "m": nil, "a": nil},
		},
		{
			name: "input ids may contain slashes and win over step outputs",
			spec: Spec{Inputs: []string{"s/o", "deep/er/in"}, Steps: []Step{
				{ID: "t", Outputs: []string{"o"}, Sources: []string{"s/o", "deep/er/in"}},
				{ID: "s", Outputs: []string{"o"}},
			}},
			order: []string{"t", "s"},
			deps:  map[string][]string{"t": nil, "s": nil},
		},
		{
			name: "a step output read twice gives one dependency",
			spec: Spec{Steps: []Step{
				{ID: "b", Sources: []string{"a/x", "a/y", "a/x"}},
				{ID: "a", Outputs: []string{"x", "y"}},
			}},
			order:      []string{"a", "b"},
			deps:       map[string][]string{"b": {"a"}},
			dependents: map[string][]string{"a": {"b"}},
		},
		{
			name:  "empty workflow",
			spec:  Spec{},
			order: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Build(tt.spec)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if got := g.Order(); !slices.Equal(got, tt.order) {
				t.Errorf("Order() = %v, want %v", got, tt.order)
			}
			for step, want := range tt.deps {
				if got := g.Dependencies(step); !slices.Equal(got, want) {
					t.Errorf("Dependencies(%q) = %v, want %v", step, got, want)
				}
			}
			for step, want := range tt.dependents {
				if got := g.Dependents(step); !slices.Equal(got, want) {
					t.Errorf("Dependents(%q) = %v, want %v", step, got, want)
				}
			}
		})
	}
}

func TestOrderRespectsEveryEdge(t *testing.T) {
	g, err := Build(diamond())
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, id := range g.Order() {
		pos[id] = i
	}
	for _, id := range g.Order() {
		for _, dep := range g.Dependencies(id) {
			if pos[dep] >= pos[id] {
				t.Errorf("step %q comes before its dependency %q in %v", id, dep, g.Order())
			}
		}
	}
}

func TestGraphIsImmutable(t *testing.T) {
	spec := diamond()
	g, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	g.Order()[0] = "mutated"
	g.Dependencies("d")[0] = "mutated"
	spec.Steps[0].ID = "mutated"
	if g.Order()[0] != "a" || g.Dependencies("d")[0] != "b" {
		t.Errorf("graph changed through returned or given slices: %v %v", g.Order(), g.Dependencies("d"))
	}
}

func TestUnknownStepHasNoNeighbours(t *testing.T) {
	g, err := Build(diamond())
	if err != nil {
		t.Fatal(err)
	}
	if d := g.Dependencies("nope"); d != nil {
		t.Errorf("Dependencies(nope) = %v", d)
	}
	if d := g.Dependents("nope"); d != nil {
		t.Errorf("Dependents(nope) = %v", d)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		is   []error
		msgs []string // every message must appear
		not  []string // and none of these
	}{
		{
			name: "cycle of three",
			spec: Spec{Steps: []Step{
				{ID: "c", Outputs: []string{"o"}, Sources: []string{"b/o"}},
				{ID: "a", Outputs: []string{"o"}, Sources: []string{"c/o"}},
				{ID: "b", Outputs: []string{"o"}, Sources: []string{"a/o"}},
				{ID: "after", Sources: []string{"c/o"}},
			}},
			is:   []error{ErrCycle},
			msgs: []string{"steps form a cycle: c -> a -> b -> c"},
			not:  []string{"after"},
		},
		{
			name: "step reads its own output",
			spec: Spec{Steps: []Step{{ID: "a", Outputs: []string{"o"}, Sources: []string{"a/o"}}}},
			is:   []error{ErrCycle},
			msgs: []string{"steps form a cycle: a -> a"},
		},
		{
			name: "no such step",
			spec: Spec{Steps: []Step{{ID: "b", Sources: []string{"x/out"}}}},
			is:   []error{ErrDanglingSource},
			msgs: []string{`step "b" reads "x/out", but there is no step "x"`},
		},
		{
			name: "no such output",
			spec: Spec{Steps: []Step{{ID: "x", Outputs: []string{"o"}}, {ID: "b", Sources: []string{"x/out"}}}},
			is:   []error{ErrDanglingSource},
			msgs: []string{`step "b" reads "x/out", but step "x" has no output "out"`},
		},
		{
			name: "workflow output reads nothing",
			spec: Spec{Inputs: []string{"in"}, Outputs: []Output{{ID: "o", Sources: []string{"nope"}}}},
			is:   []error{ErrDanglingSource},
			msgs: []string{`workflow output "o" reads "nope", which is neither an input nor a step output`},
		},
		{
			name: "every dangling source is reported",
			spec: Spec{
				Inputs: []string{"in"},
				Steps: []Step{
					{ID: "a", Outputs: []string{"o"}, Sources: []string{"in", "ghost/x", "missing"}},
					{ID: "b", Sources: []string{"a/o", "a/nope"}},
				},
				Outputs: []Output{{ID: "out", Sources: []string{"b/o"}}},
			},
			is: []error{ErrDanglingSource},
			msgs: []string{
				`step "a" reads "ghost/x", but there is no step "ghost"`,
				`step "a" reads "missing", which is neither an input nor a step output`,
				`step "b" reads "a/nope", but step "a" has no output "nope"`,
				`workflow output "out" reads "b/o", but step "b" has no output "o"`,
			},
		},
		{
			name: "dangling source and cycle together",
			spec: Spec{Steps: []Step{
				{ID: "a", Outputs: []string{"o"}, Sources: []string{"b/o", "zz/o"}},
				{ID: "b", Outputs: []string{"o"}, Sources: []string{"a/o"}},
			}},
			is:   []error{ErrDanglingSource, ErrCycle},
			msgs: []string{`there is no step "zz"`, "steps form a cycle: a -> b -> a"},
		},
		{
			name: "duplicate step ids",
			spec: Spec{Steps: []Step{{ID: "a"}, {ID: "b"}, {ID: "a"}}},
			is:   []error{ErrDuplicateStep},
			msgs: []string{`two steps are named "a"`},
		},
		{
			name: "step id with a slash",
			spec: Spec{Steps: []Step{{ID: "a/b"}, {ID: ""}}},
			is:   []error{ErrInvalidStepID},
			msgs: []string{`step id "a/b" contains "/"`, "a step has an empty id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Build(tt.spec)
			if err == nil {
				t.Fatalf("Build succeeded with order %v, want an error", g.Order())
			}
			for _, want := range tt.is {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %v", err, want)
				}
			}
			for _, m := range tt.msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
			for _, m := range tt.not {
				if strings.Contains(err.Error(), m) {
					t.Errorf("error %q mentions %q", err, m)
				}
			}
		})
	}
}

func TestErrorTypes(t *testing.T) {
	_, err := Build(Spec{Steps: []Step{
		{ID: "a", Outputs: []string{"o"}, Sources: []string{"b/o"}},
		{ID: "b", Outputs: []string{"o"}, Sources: []string{"a/o", "x/y"}},
	}})
	var ce *CycleError
	if !errors.As(err, &ce) || !slices.Equal(ce.Steps, []string{"a", "b"}) {
		t.Errorf("CycleError = %+v from %v", ce, err)
	}
	var se *SourceError
	if !errors.As(err, &se) || se.Step != "b" || se.Source != "x/y" || !se.MissingStep {
		t.Errorf("SourceError = %+v from %v", se, err)
	}
}

func TestLargeGraphs(t *testing.T) {
	for name, spec := range map[string]Spec{"chain": chain(10000), "fan-out": fanOut(10000)} {
		g, err := Build(spec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := len(g.Order()); n != len(spec.Steps) {
			t.Errorf("%s: order has %d steps, want %d", name, n, len(spec.Steps))
		}
	}
	g, _ := Build(chain(10000))
	if o := g.Order(); o[0] != "s0" || o[9999] != "s9999" {
		t.Errorf("chain order starts %s and ends %s", o[0], o[9999])
	}
	if d := g.Dependencies("s5000"); !slices.Equal(d, []string{"s4999"}) {
		t.Errorf("Dependencies(s5000) = %v", d)
	}
	g, _ = Build(fanOut(10000))
	if n := len(g.Dependents("root")); n != 9999 {
		t.Errorf("root has %d dependents, want 9999", n)
	}
}

func TestLongCycleIsReported(t *testing.T) {
	spec := chain(10000) // declared s9999 first, s0 last
	spec.Steps[9999].Sources = []string{"s9999/o"}
	_, err := Build(spec)
	var ce *CycleError
	if !errors.As(err, &ce) || len(ce.Steps) != 10000 {
		t.Fatalf("want a 10000-step cycle, got %.200v", err)
	}
	// Rotated to start at the first-declared step, then in data-flow order.
	if s := ce.Steps; s[0] != "s9999" || s[1] != "s0" || s[2] != "s1" || s[9999] != "s9998" {
		t.Errorf("cycle is %v ... %v", s[:3], s[9999])
	}
}

// chain is s0 -> s1 -> ... declared in reverse, so the sort has to work.
func chain(n int) Spec {
	s := Spec{Inputs: []string{"in"}}
	for i := n - 1; i >= 0; i-- {
		src := "in"
		if i > 0 {
			src = fmt.Sprintf("s%d/o", i-1)
		}
		s.Steps = append(s.Steps, Step{ID: fmt.Sprintf("s%d", i), Outputs: []string{"o"}, Sources: []string{src}})
	}
	return s
}

// fanOut is one root read by n-1 steps, all gathered by one workflow output.
func fanOut(n int) Spec {
	s := Spec{Inputs: []string{"in"}, Steps: []Step{{ID: "root", Outputs: []string{"o"}, Sources: []string{"in"}}}}
	out := Output{ID: "all"}
	for i := 1; i < n; i++ {
		id := fmt.Sprintf("leaf%d", i)
		s.Steps = append(s.Steps, Step{ID: id, Outputs: []string{"o"}, Sources: []string{"root/o"}})
		out.Sources = append(out.Sources, id+"/o")
	}
	s.Outputs = []Output{out}
	return s
}

func BenchmarkBuildChain10k(b *testing.B) {
	spec := chain(10000)
	for b.Loop() {
		if _, err := Build(spec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildFanOut10k(b *testing.B) {
	spec := fanOut(10000)
	for b.Loop() {
		if _, err := Build(spec); err != nil {
			b.Fatal(err)
		}
	}
}
