package schema

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

var processClasses = []string{"CommandLineTool", "ExpressionTool", "Workflow", "Operation"}

// decodeProcess builds a Process from its node. id is the full id the
// process gets when the document does not give one.
func (l *Loader) decodeProcess(n *Node, sc scope, id string) (*Process, error) {
	if n.Kind != MapNode {
		return nil, errAt(n, "", "expected a process (a mapping with 'class'), found %s", describe(n))
	}
	sc.readHeader(n)
	class, err := optString(n, "class", "")
	if err != nil {
		return nil, err
	}
	if class == "" {
		return nil, errAt(n, "class", "missing; a process must say its class (%s)", strings.Join(processClasses, ", "))
	}
	if !slices.Contains(processClasses, class) {
		return nil, errAt(n.Get("class"), "class", "unknown process class %q; expected one of %s", class, strings.Join(processClasses, ", "))
	}
	if err := knownFields(n, "", "a "+class, processFields, classFields[class]); err != nil {
		return nil, err
	}
	if sc.version == "" {
		return nil, errAt(n, "cwlVersion", "missing; the document must say which CWL version it is written in (e.g. cwlVersion: v1.2)")
	}
	if err := l.checkVersion(n, sc.version); err != nil {
		return nil, err
	}
	if s, _ := n.Get("id").Str(); s != "" {
		id = resolveID(n.Base, s, sc.namespaces)
	}
	p := &Process{Class: class, ID: id, Pos: n.Pos, CWLVersion: sc.version, Namespaces: sc.namespaces, Schemas: sc.schemas}
	p.Label, _ = optString(n, "label", "")
	p.Doc, _ = n.Get("doc").Str()
	if p.Requirements, err = l.decodeRequirements(n.Get("requirements"), "requirements", sc, true); err != nil {
		return nil, err
	}
	if p.Hints, err = l.decodeRequirements(n.Get("hints"), "hints", sc, false); err != nil {
		return nil, err
	}
	if sc.top && sc.version == "v1.0" {
		p.Hints = append([]Requirement{
			{Class: "LoadListingRequirement", Fields: map[string]any{"loadListing": "deep_listing"}},
			{Class: "NetworkAccess", Fields: map[string]any{"networkAccess": true}},
		}, p.Hints...)
	}
	if err := l.decodeInterface(p, n, sc); err != nil {
		return nil, err
	}
	switch class {
	case "CommandLineTool":
		err = l.decodeCommandLineTool(p, n)
	case "ExpressionTool":
		p.Expression, err = optString(n, "expression", "")
		if err == nil && p.Expression == "" {
			err = errAt(n, "expression", "missing; an ExpressionTool needs an expression")
		}
	case "Workflow":
		err = l.decodeWorkflow(p, n, sc)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// decodeInterface reads inputs and outputs.
func (l *Loader) decodeInterface(p *Process, n *Node, sc scope) error {
	if !n.Has("inputs") {
		return errAt(n, "inputs", "missing; a process must list its inputs (use inputs: [] for none)")
	}
	if !n.Has("outputs") {
		return errAt(n, "outputs", "missing; a process must list its outputs (use outputs: [] for none)")
	}
	var err error
	if p.Inputs, err = l.decodeParams(n.Get("inputs"), "inputs", p.ID, sc, true, nil); err != nil {
		return err
	}
	var outputFields []string
	if p.Class == "Workflow" {
		outputFields = workflowOutputFields
	}
	p.Outputs, err = l.decodeParams(n.Get("outputs"), "outputs", p.ID, sc, false, outputFields)
	return err
}

func (l *Loader) decodeCommandLineTool(p *Process, n *Node) error {
	var err error
	if p.BaseCommand, err = stringList(n.Get("baseCommand"), "baseCommand"); err != nil {
		return err
	}
	args := n.Get("arguments")
	if !args.IsNull() {
		if args.Kind != SeqNode {
			return errAt(args, "arguments", "expected a list, found %s", describe(args))
		}
		for i, a := range args.Items {
			b, err := decodeArgument(a, fmt.Sprintf("arguments[%d]", i))
			if err != nil {
				return err
			}
			p.Arguments = append(p.Arguments, b)
		}
	}
	// Neither baseCommand nor arguments is valid too: the command line
	// then starts with the first bound input.
	for _, k := range []string{"stdin", "stdout", "stderr"} {
		if _, err := optString(n, k, ""); err != nil {
			return err
		}
	}
	p.Stdin, p.Stdout, p.Stderr = plainOf(n, "stdin"), plainOf(n, "stdout"), plainOf(n, "stderr")
	for _, f := range []struct {
		key string
		dst *[]int
	}{{"successCodes", &p.SuccessCodes}, {"temporaryFailCodes", &p.TemporaryFailCodes}, {"permanentFailCodes", &p.PermanentFailCodes}} {
		if *f.dst, err = intList(n.Get(f.key), f.key); err != nil {
			return err
		}
	}
	return normaliseStreams(p)
}

// normaliseStreams turns the stdout/stderr/stdin shorthand types into
// plain File parameters with globs, as the spec defines them.
func normaliseStreams(p *Process) error {
	for _, o := range p.Outputs {
		if o.Type == nil || (o.Type.Kind != TStdout && o.Type.Kind != TStderr) {
			continue
		}
		stream := &p.Stdout
		if o.Type.Kind == TStderr {
			stream = &p.Stderr
		}
		if *stream == nil {
			*stream = streamName(p.ID, o)
		}
		o.Type = &Type{Kind: TFile}
		o.OutputBinding = &OutputBinding{Glob: *stream}
	}
	for _, in := range p.Inputs {
		if in.Type != nil && in.Type.Kind == "stdin" {
			if p.Stdin != nil {
				return &Error{Pos: in.Pos, Field: "inputs." + in.ID, Msg: "type stdin conflicts with the tool's stdin field"}
			}
			in.Type = &Type{Kind: TFile}
			p.Stdin = "$(inputs." + in.ID + ".path)"
		}
	}
	return nil
}

// streamName names the file of a stdout or stderr output that the tool
// does not name. The name is derived from the tool and the output, not
// random, so that loading the same tool twice gives the same tool (which
// the step cache depends on), and two streams never share a file. Of the
// tool's id it takes the document's name but not its folder, which the
// step cache leaves out too: a project moved, or a tool written anew in
// another folder, keeps its cache.
func streamName(toolID string, o *Parameter) string {
	doc, frag, _ := strings.Cut(toolID, "#")
	if i := strings.LastIndex(doc, "/"); i >= 0 {
		toolID = doc[i+1:] + "#" + frag
	}
	h := sha1.Sum([]byte(toolID + "#" + o.ID))
	return string(o.Type.Kind) + "_" + hex.EncodeToString(h[:8])
}

// releasedVersions are the CWL versions flow reads; devVersions were
// drafts of them, read only on request (EnableDev) as other runners do:
// what a draft meant may differ from the release.
var (
	releasedVersions = []string{"v1.0", "v1.1", "v1.2"}
	devVersions      = []string{"v1.1.0-dev1", "v1.2.0-dev1", "v1.2.0-dev2", "v1.2.0-dev3", "v1.2.0-dev4", "v1.2.0-dev5"}
)

// checkVersion refuses a cwlVersion flow does not read, and a draft one
// unless the loader was told to read drafts.
func (l *Loader) checkVersion(n *Node, version string) error {
	at := n.Get("cwlVersion")
	if at == nil {
		at = n
	}
	switch {
	case slices.Contains(releasedVersions, version):
		return nil
	case slices.Contains(devVersions, version) && l.enableDev:
		return nil
	case slices.Contains(devVersions, version):
		return errAt(at, "cwlVersion", "%q is a development version; update the document to a released one (v1.0, v1.1, v1.2) or pass --enable-dev", version)
	}
	return errAt(at, "cwlVersion", "unsupported CWL version %q; flow reads v1.0, v1.1 and v1.2", version)
}

// versionOrder ranks CWL versions for feature checks.
var versionOrder = map[string]int{"v1.0": 0, "v1.1.0-dev1": 1, "v1.1": 1, "v1.2.0-dev1": 2, "v1.2.0-dev2": 2, "v1.2.0-dev3": 2, "v1.2.0-dev4": 2, "v1.2.0-dev5": 2, "v1.2": 2}

// needVersion rejects a feature that the document's CWL version lacks:
// a v1.0 document may not use what v1.2 added, even if flow could run it,
// so that documents stay portable to other runners.
func needVersion(n *Node, field, min, have, feature string) error {
	if versionOrder[have] >= versionOrder[min] {
		return nil
	}
	return errAt(n, field, "%s needs cwlVersion %s or later; this document says %s", feature, min, have)
}
