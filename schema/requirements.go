package schema

import (
	"fmt"
)

// KnownRequirements are the requirement classes flow implements. A document
// that lists any other class under requirements cannot run (exit 33); under
// hints it is ignored.
var KnownRequirements = map[string]bool{
	"InlineJavascriptRequirement":     true,
	"SchemaDefRequirement":            true,
	"LoadListingRequirement":          true,
	"DockerRequirement":               true,
	"SoftwareRequirement":             true,
	"InitialWorkDirRequirement":       true,
	"EnvVarRequirement":               true,
	"ShellCommandRequirement":         true,
	"ResourceRequirement":             true,
	"WorkReuse":                       true,
	"NetworkAccess":                   true,
	"InplaceUpdateRequirement":        true,
	"ToolTimeLimit":                   true,
	"SubworkflowFeatureRequirement":   true,
	"ScatterFeatureRequirement":       true,
	"MultipleInputFeatureRequirement": true,
	"StepInputExpressionRequirement":  true,
}

// extensionClasses maps extension class names of earlier versions onto
// their standard v1.1+ names.
var extensionClasses = map[string]string{
	"http://commonwl.org/cwltool#WorkReuse":                "WorkReuse",
	"http://arvados.org/cwl#ReuseRequirement":              "WorkReuse",
	"http://commonwl.org/cwltool#TimeLimit":                "ToolTimeLimit",
	"http://commonwl.org/cwltool#NetworkAccess":            "NetworkAccess",
	"http://commonwl.org/cwltool#InplaceUpdateRequirement": "InplaceUpdateRequirement",
	"http://commonwl.org/cwltool#LoadListingRequirement":   "LoadListingRequirement",
}

func (l *Loader) decodeRequirements(v *Node, path string, sc scope, strict bool) ([]Requirement, error) {
	list, err := entries(v, path)
	if err != nil {
		return nil, err
	}
	var out []Requirement
	for i, e := range list {
		field := fmt.Sprintf("%s[%d]", path, i)
		if e.n.Kind != MapNode && !(e.key != "" && e.n.IsNull()) {
			return nil, errAt(e.n, field, "expected a requirement (a mapping with 'class'), found %s", describe(e.n))
		}
		class := e.key
		if class == "" {
			if class, err = optString(e.n, "class", field); err != nil {
				return nil, err
			}
			if class == "" {
				return nil, errAt(e.n, field+".class", "missing; each requirement needs a class")
			}
		}
		field = path + "." + class
		if full := resolveRef("", class, sc.namespaces); extensionClasses[full] != "" {
			class = extensionClasses[full]
		}
		if !KnownRequirements[class] {
			if strict {
				return nil, unsupportedAt(e.n, field, "flow does not support the requirement %q", class)
			}
			continue // an unknown hint is advice flow cannot take
		}
		req := Requirement{Class: class, Pos: e.n.Pos, Fields: map[string]any{}}
		if e.n.Kind == MapNode {
			for j, k := range e.n.Keys {
				if k != "class" {
					req.Fields[k] = e.n.Vals[j].Plain()
				}
			}
		}
		if err := l.normaliseRequirement(&req, e.n, field, sc); err != nil {
			return nil, err
		}
		out = append(out, req)
	}
	return out, nil
}

// normaliseRequirement rewrites the map forms inside requirements into
// their list forms and registers schema types.
func (l *Loader) normaliseRequirement(r *Requirement, n *Node, field string, sc scope) error {
	switch r.Class {
	case "EnvVarRequirement":
		defs := n.Get("envDef")
		list, err := entries(defs, field+".envDef")
		if err != nil {
			return err
		}
		var out []any
		for _, e := range list {
			if e.key != "" && e.n.Kind != MapNode {
				out = append(out, map[string]any{"envName": e.key, "envValue": e.n.Plain()})
				continue
			}
			m, _ := e.n.Plain().(map[string]any)
			if m == nil {
				return errAt(e.n, field+".envDef", "expected envName and envValue, found %s", describe(e.n))
			}
			if e.key != "" {
				m["envName"] = e.key
			}
			out = append(out, m)
		}
		r.Fields["envDef"] = out
	case "SchemaDefRequirement":
		return l.registerSchemaDefs(n.Get("types"), field+".types", sc)
	case "InitialWorkDirRequirement":
		r.Fields["listing"] = resolveLocations(r.Fields["listing"], n.Base)
	case "ResourceRequirement":
		for i, k := range n.Keys {
			if _, isFloat := n.Vals[i].Value.(float64); isFloat {
				if err := needVersion(n.Vals[i], field+"."+k, "v1.2", sc.version, "a fractional resource amount"); err != nil {
					return err
				}
			}
		}
	case "SoftwareRequirement":
		// packages are advice on what to install; flow runs what is on PATH.
	case "InlineJavascriptRequirement":
		lib, err := stringList(n.Get("expressionLib"), field+".expressionLib")
		if err != nil {
			return err
		}
		r.Fields["expressionLib"] = toAnyList(lib)
	}
	return nil
}

func toAnyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// registerSchemaDefs decodes the named types of a SchemaDefRequirement.
// Names are registered first so types may refer to each other in any order.
func (l *Loader) registerSchemaDefs(v *Node, path string, sc scope) error {
	list, err := entries(v, path)
	if err != nil {
		return err
	}
	for _, e := range list {
		name, _ := e.n.Get("name").Str()
		if name == "" {
			return errAt(e.n, path, "every type in SchemaDefRequirement needs a name")
		}
		full := resolveID(e.n.Base, name, sc.namespaces)
		if _, ok := l.types[full]; !ok {
			l.types[full] = &Type{Name: full}
		}
	}
	for _, e := range list {
		if _, err := l.decodeType(e.n, path, sc); err != nil {
			return err
		}
	}
	return nil
}
