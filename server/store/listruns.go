package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultPageSize and MaxPageSize bound ListRuns pages.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// RunFilter narrows ListRuns; the zero value lists every run.
type RunFilter struct {
	State RunState          // only runs in this state ("" for any)
	Tags  map[string]string // only runs carrying every one of these tags
	// Workflow keeps runs of this registered workflow (Name "NAME@VERSION"),
	// or of this main document.
	Workflow string
	// Text keeps runs whose id, name, workflow, error or a tag's value
	// holds it, ignoring case.
	Text string
	// Since and Until keep runs submitted in [Since, Until); zero: no bound.
	Since, Until time.Time
}

func (f RunFilter) match(r *Run) bool {
	if f.State != "" && r.State != f.State {
		return false
	}
	if f.Workflow != "" && r.Workflow != f.Workflow && r.Name != f.Workflow && !strings.HasPrefix(r.Name, f.Workflow+"@") {
		return false
	}
	if (!f.Since.IsZero() && r.Submitted.Before(f.Since)) || (!f.Until.IsZero() && !r.Submitted.Before(f.Until)) {
		return false
	}
	if f.Text != "" && !r.holds(strings.ToLower(f.Text)) {
		return false
	}
	for k, v := range f.Tags {
		if got, ok := r.Tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// holds reports whether the run's id, name, workflow, error or a tag's
// value holds the lower-case text.
func (r *Run) holds(text string) bool {
	for _, s := range []string{r.ID, r.Name, r.Workflow, r.Error} {
		if strings.Contains(strings.ToLower(s), text) {
			return true
		}
	}
	for _, v := range r.Tags {
		if strings.Contains(strings.ToLower(v), text) {
			return true
		}
	}
	return false
}

// ListRuns returns a team's runs that match f, newest first, at most
// pageSize of them (0 for DefaultPageSize), starting where the page token
// says ("" for the first page). next is the token of the following page,
// "" after the last. A token only works for the team and filter it was
// issued with; any other, or a forged one, is ErrBadPageToken.
func (s *Store) ListRuns(team string, f RunFilter, pageSize int, pageToken string) (runs []*Run, next string, err error) {
	if err := checkName("team", team); err != nil {
		return nil, "", fmt.Errorf("cannot list runs: %w", err)
	}
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	pageSize = min(pageSize, MaxPageSize)
	after := ""
	if pageToken != "" {
		if after, err = s.openPageToken(team, f, pageToken); err != nil {
			return nil, "", err
		}
	}
	more := false
	err = s.db.View(func(tx *bolt.Tx) error {
		runs, more, err = scanRuns(tx.Bucket(bucketRuns).Cursor(), team, after, f, pageSize)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("cannot list the runs of team %s: %w", team, err)
	}
	if more {
		next = s.pageToken(team, f, runs[len(runs)-1].ID)
	}
	return runs, next, nil
}

// scanRuns walks a team's runs backwards (newest first) from just before
// the run after ("" for the newest), collecting up to n matches and
// noting whether one more exists.
func scanRuns(c *bolt.Cursor, team, after string, f RunFilter, n int) (runs []*Run, more bool, err error) {
	p := prefix(team)
	var k, v []byte
	if after != "" {
		// Seek lands on the run after, or the first key beyond it if it
		// was deleted meanwhile; either way the next older run is Prev.
		if k, _ = c.Seek(key(team, after)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	} else if k, _ = c.Seek(prefixEnd(p)); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Prev() {
		r, err := decodeRun(v)
		if err != nil {
			return nil, false, fmt.Errorf("run %q: %w", k[len(p):], err)
		}
		if !f.match(r) {
			continue
		}
		if len(runs) == n {
			return runs, true, nil
		}
		runs = append(runs, r)
	}
	return runs, false, nil
}

// prefixEnd is the first key after every key that starts with p (p ends
// in sep, so bumping that byte cannot overflow).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	end[len(end)-1]++
	return end
}

// pageTokenMACSize is how much of the HMAC-SHA256 a page token carries:
// 128 bits is far beyond guessing, and keeps tokens short.
const pageTokenMACSize = 16

// pageToken is base64url of a MAC and the ID of the last run listed. The
// MAC covers the team and filter too, so a token cannot be replayed
// against another team's listing or a looser filter.
func (s *Store) pageToken(team string, f RunFilter, lastID string) string {
	b := append(s.pageMAC(team, f, lastID), lastID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// openPageToken checks a page token and returns the run ID it continues
// after.
func (s *Store) openPageToken(team string, f RunFilter, tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) <= pageTokenMACSize {
		return "", fmt.Errorf("the page token is malformed: %w", ErrBadPageToken)
	}
	lastID := string(b[pageTokenMACSize:])
	if !hmac.Equal(b[:pageTokenMACSize], s.pageMAC(team, f, lastID)) {
		return "", fmt.Errorf("the page token was not issued for this listing (another team or filter, or altered): %w", ErrBadPageToken)
	}
	return lastID, nil
}

func (s *Store) pageMAC(team string, f RunFilter, lastID string) []byte {
	m := hmac.New(sha256.New, s.keys.page)
	parts := []string{"flowd runs page", team, string(f.State), f.Workflow, f.Text, timeKey(f.Since), timeKey(f.Until)}
	for _, k := range slices.Sorted(maps.Keys(f.Tags)) {
		parts = append(parts, k, f.Tags[k])
	}
	parts = append(parts, lastID)
	for _, p := range parts {
		// Length-prefixed, so that no two different lists of parts
		// (tags holding NUL bytes included) write the same bytes.
		fmt.Fprintf(m, "%d:%s", len(p), p)
	}
	return m.Sum(nil)[:pageTokenMACSize]
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
