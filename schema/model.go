package schema

import (
	"strconv"
	"strings"
)

// This file holds the document model the loader produces and the engine
// runs. Every id in it is short and relative: a tool input "reads", a step
// "align", a source "align/bam" (step output) or "reads" (workflow input).
// Fields whose CWL type allows an expression keep the raw value (string or
// literal) as `any`; the engine evaluates them at run time. Positions are
// left out of the JSON form, which digests use: moving a line in a file
// does not change what a process does.

// Process is a CommandLineTool, ExpressionTool, Workflow or Operation.
type Process struct {
	Class      string // "CommandLineTool", "ExpressionTool", "Workflow", "Operation"
	ID         string // full id (file URI with fragment), unique within a load
	Pos        Pos    `json:"-"` // not part of what a process means
	CWLVersion string // as written in the document, before upgrading
	Label, Doc string

	Inputs       []*Parameter
	Outputs      []*Parameter
	Requirements []Requirement
	Hints        []Requirement
	Namespaces   map[string]string
	Schemas      []string // $schemas, absolute URIs

	// CommandLineTool
	BaseCommand        []string
	Arguments          []*Binding
	Stdin              any
	Stdout, Stderr     any
	SuccessCodes       []int
	TemporaryFailCodes []int
	PermanentFailCodes []int

	// ExpressionTool
	Expression string

	// Workflow
	Steps []*Step
}

// Requirement is one entry of requirements or hints: its class and fields
// as plain values (see docs/CONVENTIONS.md).
type Requirement struct {
	Class  string
	Fields map[string]any
	Pos    Pos `json:"-"`
}

// Parameter is an input or output parameter of a process, or a field of a
// record type.
type Parameter struct {
	ID         string
	Pos        Pos `json:"-"`
	Type       *Type
	Label, Doc string
	Format     any // string, []any of strings, or an expression
	Secondary  []SecondaryFile
	Streamable bool

	// Inputs
	Default      any
	HasDefault   bool
	InputBinding *Binding
	LoadContents bool
	LoadListing  string

	// CommandLineTool outputs
	OutputBinding *OutputBinding

	// Workflow outputs
	OutputSource []string
	MultiSource  bool // outputSource written as a list
	LinkMerge    string
	PickValue    string
}

// SecondaryFile is one secondaryFiles entry: a pattern ("^.bai", ".idx") or
// an expression, and whether it must exist (bool or expression).
type SecondaryFile struct {
	Pattern  any
	Required any
}

// Binding says how a value goes on the command line (inputBinding, or an
// entry of arguments).
type Binding struct {
	Pos           Pos `json:"-"`
	Position      any // int or expression; nil means 0
	Prefix        string
	Separate      bool // default true
	ItemSeparator *string
	ValueFrom     any  // string (maybe expression) or nil
	ShellQuote    bool // default true
	LoadContents  bool
	HasValueFrom  bool
}

// OutputBinding says how an output is collected from the work directory.
type OutputBinding struct {
	Glob         any // string, []any of strings, or expression
	LoadContents bool
	LoadListing  string
	OutputEval   string
}

// Step is one step of a workflow.
type Step struct {
	ID            string
	Pos           Pos `json:"-"`
	Label, Doc    string
	In            []*StepInput
	InPos         Pos `json:"-"` // of the in field, or of the step without one
	Out           []string
	OutPos        []Pos `json:"-"` // of each entry of Out
	Run           *Process
	Requirements  []Requirement
	Hints         []Requirement
	Scatter       []string // ids of step inputs
	ScatterMethod string   // "dotproduct", "nested_crossproduct", "flat_crossproduct"
	When          string
}

// StepInput feeds one input of a step's process.
type StepInput struct {
	ID           string
	Pos          Pos `json:"-"`
	Source       []string
	LinkMerge    string
	PickValue    string
	Default      any
	HasDefault   bool
	ValueFrom    string
	LoadContents bool
	LoadListing  string
	// MultiSource is true when source was written as a list, which makes the
	// step input an array even with one source (linkMerge applies).
	MultiSource bool
}

// TypeKind names a CWL type.
type TypeKind string

const (
	TNull      TypeKind = "null"
	TBoolean   TypeKind = "boolean"
	TInt       TypeKind = "int"
	TLong      TypeKind = "long"
	TFloat     TypeKind = "float"
	TDouble    TypeKind = "double"
	TString    TypeKind = "string"
	TFile      TypeKind = "File"
	TDirectory TypeKind = "Directory"
	TAny       TypeKind = "Any"
	TArray     TypeKind = "array"
	TRecord    TypeKind = "record"
	TEnum      TypeKind = "enum"
	TUnion     TypeKind = "union"
	TStdout    TypeKind = "stdout"
	TStderr    TypeKind = "stderr"
)

// Type is a CWL type. Named records and enums are shared by pointer, so a
// type graph may be recursive; code walking it must not assume a tree.
type Type struct {
	Kind    TypeKind
	Name    string       // named record or enum: full id
	Items   *Type        // array
	Fields  []*Parameter // record
	Symbols []string     // enum, short symbols
	Union   []*Type      // union
	// InputBinding of an array, record or enum type (how the type binds as a
	// whole on the command line).
	InputBinding *Binding
}

// Optional reports whether null is a valid value of t.
func (t *Type) Optional() bool {
	if t == nil {
		return true
	}
	switch t.Kind {
	case TNull, TAny:
		return t.Kind == TNull
	case TUnion:
		for _, u := range t.Union {
			if u.Kind == TNull {
				return true
			}
		}
	}
	return false
}

// String renders t in CWL's shorthand, for messages.
func (t *Type) String() string {
	if t == nil {
		return "Any"
	}
	switch t.Kind {
	case TArray:
		return t.Items.String() + "[]"
	case TUnion:
		if len(t.Union) == 2 && t.Union[0].Kind == TNull {
			return t.Union[1].String() + "?"
		}
		s := ""
		for i, u := range t.Union {
			if i > 0 {
				s += " | "
			}
			s += u.String()
		}
		return s
	case TEnum:
		return "one of " + quoteList(t.Symbols)
	case TRecord:
		if t.Name != "" {
			return shortID(t.Name)
		}
		return string(t.Kind)
	}
	return string(t.Kind)
}

// Find returns the requirement of class among reqs, searching from the end
// so that later (more specific) entries win.
func Find(reqs []Requirement, class string) (Requirement, bool) {
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Class == class {
			return reqs[i], true
		}
	}
	return Requirement{}, false
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = strconv.Quote(it)
	}
	return strings.Join(q, ", ")
}
