package schema

// Small readers for typed fields of a mapping node. Each returns an *Error
// naming the field when the value has the wrong shape.

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func optString(n *Node, key, path string) (string, error) {
	v := n.Get(key)
	if v.IsNull() {
		return "", nil
	}
	s, ok := v.Str()
	if !ok {
		return "", errAt(v, join(path, key), "expected text, found %s", describe(v))
	}
	return s, nil
}

func optBool(n *Node, key, path string, def bool) (bool, error) {
	v := n.Get(key)
	if v.IsNull() {
		return def, nil
	}
	b, ok := v.Value.(bool)
	if v.Kind != ScalarNode || !ok {
		return false, errAt(v, join(path, key), "expected true or false, found %s", describe(v))
	}
	return b, nil
}

// stringList reads a field that is one string or a list of strings.
func stringList(v *Node, path string) ([]string, error) {
	if v.IsNull() {
		return nil, nil
	}
	if s, ok := v.Str(); ok {
		return []string{s}, nil
	}
	if v.Kind != SeqNode {
		return nil, errAt(v, path, "expected text or a list of text, found %s", describe(v))
	}
	out := make([]string, 0, len(v.Items))
	for _, it := range v.Items {
		s, ok := it.Str()
		if !ok {
			return nil, errAt(it, path, "expected text, found %s", describe(it))
		}
		out = append(out, s)
	}
	return out, nil
}

func intList(v *Node, path string) ([]int, error) {
	if v.IsNull() {
		return nil, nil
	}
	if v.Kind != SeqNode {
		return nil, errAt(v, path, "expected a list of integers, found %s", describe(v))
	}
	out := make([]int, 0, len(v.Items))
	for _, it := range v.Items {
		i, ok := it.Value.(int64)
		if it.Kind != ScalarNode || !ok {
			return nil, errAt(it, path, "expected an integer, found %s", describe(it))
		}
		out = append(out, int(i))
	}
	return out, nil
}

// entries reads a field written either as a list of mappings or as a
// mapping from id to value (CWL's "map form"). For the map form, value
// nodes that are not mappings are passed as is with their key; keyField
// names the field the key fills ("id", "class", "name").
type entry struct {
	key string // from map form, else ""
	n   *Node
}

func entries(v *Node, path string) ([]entry, error) {
	if v.IsNull() {
		return nil, nil
	}
	switch v.Kind {
	case SeqNode:
		out := make([]entry, 0, len(v.Items))
		for _, it := range v.Items {
			if it.Kind == SeqNode { // an $import of a list spliced into a list
				sub, err := entries(it, path)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
				continue
			}
			out = append(out, entry{n: it})
		}
		return out, nil
	case MapNode:
		out := make([]entry, 0, len(v.Keys))
		for i, k := range v.Keys {
			out = append(out, entry{key: k, n: v.Vals[i]})
		}
		return out, nil
	}
	return nil, errAt(v, path, "expected a list or a mapping, found %s", describe(v))
}

// plainOf returns the plain value of an optional field.
func plainOf(n *Node, key string) any {
	v := n.Get(key)
	if v == nil {
		return nil
	}
	return v.Plain()
}
