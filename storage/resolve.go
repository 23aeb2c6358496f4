package storage

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
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

// Resolve fetches every File and Directory of the input object whose
// location is remote into the cache, and points it at the local copy.
// A File keeps the URL's last element as its basename. With check set it
// only checks that each remote input exists (a dry run).
func (c *Cache) Resolve(ctx context.Context, inputs map[string]any, check bool) error {
	ids := slices.Sorted(maps.Keys(inputs)) // the same error first, every time
	for _, id := range ids {
		err := walk(inputs[id], func(m map[string]any) error {
			loc, _ := m["location"].(string)
			if !Remote(loc) {
				return nil
			}
			if err := c.resolveOne(ctx, m, loc, check); err != nil {
				return &InputError{ID: id, URL: redactRaw(loc), Err: err}
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

func redactRaw(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "(a location that is not a URL)"
	}
	return Redact(u)
}
