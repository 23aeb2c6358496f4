package schema

import (
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// FileURI turns an absolute or relative local path into a file:// URI.
func FileURI(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// URIPath returns the local path of a file:// URI (or the input unchanged
// when it is already a path).
func URIPath(uri string) string {
	if !strings.HasPrefix(uri, "file:") {
		return uri
	}
	u, err := url.Parse(uri)
	if err != nil {
		return strings.TrimPrefix(uri, "file://")
	}
	return u.Path
}

// hasScheme reports whether ref is already an absolute URI. Only schemes
// flow understands count, so a file named "colon:test.cwl" stays relative.
func hasScheme(ref string) bool {
	for _, s := range []string{"file:", "http:", "https:", "s3:", "urn:", "data:", "_:"} {
		if strings.HasPrefix(ref, s) {
			return true
		}
	}
	return false
}

// resolveRef resolves ref against base the way JSON-LD/schema-salad does:
// "#frag" stays in base's document, "other.cwl#x" is relative to base's
// folder, absolute URIs are kept, and "prefix:rest" expands a namespace.
func resolveRef(base, ref string, ns map[string]string) string {
	if ref == "" {
		return base
	}
	if i := strings.Index(ref, ":"); i > 0 && ns != nil {
		if full, ok := ns[ref[:i]]; ok {
			return full + ref[i+1:]
		}
	}
	if hasScheme(ref) {
		return ref
	}
	doc := base
	if i := strings.Index(doc, "#"); i >= 0 {
		doc = doc[:i]
	}
	if strings.HasPrefix(ref, "#") {
		return doc + ref
	}
	if strings.HasPrefix(ref, "/") {
		return "file://" + ref
	}
	frag := ""
	if i := strings.Index(ref, "#"); i >= 0 {
		ref, frag = ref[:i], ref[i:]
	}
	if strings.HasPrefix(doc, "file://") {
		dir := path.Dir(strings.TrimPrefix(doc, "file://"))
		return "file://" + path.Join(dir, ref) + frag
	}
	u, err := url.Parse(doc)
	if err != nil {
		return ref + frag
	}
	r, err := u.Parse(ref)
	if err != nil {
		return ref + frag
	}
	return r.String() + frag
}

// fragment returns the part of id after '#', or id itself without one.
func fragment(id string) string {
	if i := strings.LastIndex(id, "#"); i >= 0 {
		return id[i+1:]
	}
	return id
}

// shortID is the last path segment of an id's fragment: "file:///w.cwl#main/step1/out" → "out".
func shortID(id string) string {
	f := fragment(id)
	if i := strings.LastIndex(f, "/"); i >= 0 {
		return f[i+1:]
	}
	return f
}

// relativeID strips the owner's fragment from id, keeping what is below it:
// relativeID("f#main/step1/out", "f#main") == "step1/out". Ids outside the
// owner (or without '#') are returned as their fragment.
func relativeID(id, owner string) string {
	f := fragment(id)
	of := ""
	if strings.Contains(owner, "#") {
		of = fragment(owner)
	}
	if of != "" && strings.HasPrefix(f, of+"/") {
		return f[len(of)+1:]
	}
	return f
}

// resolveID resolves an identifier field (id, name): unlike a reference,
// a bare "main" names a fragment of the current document, "doc#main".
func resolveID(base, id string, ns map[string]string) string {
	if strings.HasPrefix(id, "#") || hasScheme(id) || strings.Contains(id, "#") {
		return resolveRef(base, id, ns)
	}
	if i := strings.Index(id, ":"); i > 0 && ns != nil {
		if _, ok := ns[id[:i]]; ok {
			return resolveRef(base, id, ns)
		}
	}
	return docURI(base) + "#" + id
}
