package storage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"

	"github.com/flow-cwl/flow/schema"
)

// InputError is a remote input that cannot be fetched: which input,
// which URL (redacted), and why.
type InputError struct {
	ID  string
	URL string
	Err error
}

func (e *InputError) Error() string {
	return fmt.Sprintf("input %q: %s: %v", e.ID, e.URL, e.Err)
}
func (e *InputError) Unwrap() error   { return e.Err }
func (e *InputError) InputID() string { return e.ID }

// Secondary is one secondaryFiles pattern of an input parameter that
// names a file beside the primary: ".bai" appends, each leading "^"
// removes an extension first ("^.fai").
type Secondary struct {
	Pattern  string
	Required bool // a required file that is absent fails the input
}

// Resolve fetches every File and Directory of the input object whose
// location is remote into the cache, and points it at the local copy.
// A File keeps the URL's last element as its basename. The secondary
// patterns of an input (by its ID) are resolved against the location of
// each of its remote Files, as CWL resolves them against a local one:
// the files they name are fetched from the same store and listed in the
// File's secondaryFiles. With check set it only checks that each remote
// input, and each required secondary file, exists (a dry run).
func (c *Cache) Resolve(ctx context.Context, inputs map[string]any, secondary map[string][]Secondary, check bool) error {
	ids := slices.Sorted(maps.Keys(inputs)) // the same error first, every time
	for _, id := range ids {
		if err := c.addSecondaries(ctx, id, inputs[id], secondary[id], check); err != nil {
			return err
		}
		err := walk(inputs[id], func(m map[string]any) error {
			loc, _ := m["location"].(string)
			if !Remote(loc) {
				return nil
			}
			if err := c.resolveOne(ctx, m, loc, check); err != nil {
				return &InputError{ID: id, URL: RedactString(loc), Err: err}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Cache) resolveOne(ctx context.Context, m map[string]any, loc string, check bool) error {
	dir := m["class"] == "Directory"
	if check {
		b, u, err := c.Stores.For(loc)
		if err != nil {
			return err
		}
		if dir {
			_, err = b.List(ctx, u)
		} else {
			_, err = b.Stat(ctx, u)
		}
		return err
	}
	fetch := c.FetchFile
	if dir {
		fetch = c.FetchDir
	}
	p, err := fetch(ctx, loc)
	if err != nil {
		return err
	}
	if _, ok := m["basename"]; !ok {
		if u, err := url.Parse(loc); err == nil {
			m["basename"] = baseName(u)
		}
	}
	m["location"] = (&url.URL{Scheme: "file", Path: p}).String()
	delete(m, "path")
	return nil
}

// walk calls fn on every File and Directory object in v, outer first.
func walk(v any, fn func(map[string]any) error) error {
	switch t := v.(type) {
	case []any:
		for _, it := range t {
			if err := walk(it, fn); err != nil {
				return err
			}
		}
	case map[string]any:
		if c := t["class"]; c == "File" || c == "Directory" {
			if err := fn(t); err != nil {
				return err
			}
		}
		for k, it := range t {
			if k == "location" {
				continue
			}
			if err := walk(it, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// RedactString is the location loc as it may be shown (see Redact).
func RedactString(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "(a location that is not a URL)"
	}
	return Redact(u)
}

// addSecondaries lists, in the secondaryFiles of each remote File of the
// input value v (the value itself or the items of an array), the remote
// files its parameter's patterns name that exist. A required one that
// does not is an error naming the input, the URL and the pattern; an
// optional one the store says is absent or forbidden is left out (S3
// answers "forbidden" for a missing key to whom may not list the bucket).
func (c *Cache) addSecondaries(ctx context.Context, id string, v any, specs []Secondary, check bool) error {
	if len(specs) == 0 {
		return nil
	}
	files := []any{v}
	if l, ok := v.([]any); ok {
		files = l
	}
	for _, it := range files {
		f, ok := it.(map[string]any)
		if !ok || f["class"] != "File" {
			continue
		}
		loc, _ := f["location"].(string)
		if !Remote(loc) {
			continue
		}
		for _, sf := range specs {
			if err := c.addSecondary(ctx, f, loc, sf, check); err != nil {
				return &InputError{ID: id, URL: RedactString(secondaryURL(loc, sf.Pattern)), Err: err}
			}
		}
	}
	return nil
}

// addSecondary adds the file pattern sf names beside the remote primary
// f (at loc) to f's secondaryFiles, unless they list it already.
func (c *Cache) addSecondary(ctx context.Context, f map[string]any, loc string, sf Secondary, check bool) error {
	u := secondaryURL(loc, sf.Pattern)
	base, _ := f["basename"].(string)
	if base == "" {
		if pu, err := url.Parse(loc); err == nil {
			base = baseName(pu)
		}
	}
	name := schema.SecondaryName(base, sf.Pattern)
	have, _ := f["secondaryFiles"].([]any)
	for _, h := range have {
		if hm, ok := h.(map[string]any); ok && (hm["basename"] == name || hm["location"] == u) {
			return nil
		}
	}
	b, pu, err := c.Stores.For(u)
	if err != nil {
		return err
	}
	if _, err := b.Stat(ctx, pu); err != nil {
		if !sf.Required && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden)) {
			return nil
		}
		return fmt.Errorf("secondary file (pattern %q): %w", sf.Pattern, err)
	}
	if !check {
		f["secondaryFiles"] = append(have, map[string]any{"class": "File", "location": u, "basename": name})
	}
	return nil
}

// secondaryURL is the location pattern names beside the primary at loc:
// the last element of its path substituted, any query kept.
func secondaryURL(loc, pattern string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	s := *u
	dir, base := path.Split(u.Path)
	s.Path = dir + schema.SecondaryName(base, pattern)
	s.RawPath = ""
	return s.String()
}
