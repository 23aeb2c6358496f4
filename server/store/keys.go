package store

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Bucket names; the tree they form is drawn in store.go.
var (
	bucketMeta      = []byte("meta")
	bucketTokens    = []byte("tokens")
	bucketTokenHash = []byte("tokenhash")
	bucketSSHKeys   = []byte("sshkeys")
	bucketRuns      = []byte("runs")
	bucketEvents    = []byte("events")
	bucketRunEvents = []byte("runevents")
	bucketWorkflows = []byte("workflows")
	bucketEventSeq  = []byte("eventseq")

	allBuckets = [][]byte{bucketMeta, bucketTokens, bucketTokenHash, bucketSSHKeys,
		bucketRuns, bucketEvents, bucketRunEvents, bucketWorkflows, bucketEventSeq}

	keySchemaVersion = []byte("schema_version")
)

// sep joins the parts of composite keys. No stored team, name or ID
// contains it (checkName makes sure when they are created), so the prefix
// "a\0" selects team a alone, never team "ab", and a lookup whose parts
// hold a NUL byte finds nothing.
const sep = 0

// key joins parts with sep: key(team, id) is <team>\0<id>.
func key(parts ...string) []byte {
	var k []byte
	for i, p := range parts {
		if i > 0 {
			k = append(k, sep)
		}
		k = append(k, p...)
	}
	return k
}

// prefix is key(parts...) followed by sep: every key below those parts.
func prefix(parts ...string) []byte {
	return append(key(parts...), sep)
}

// seqKey is prefix(parts...) followed by n big-endian, so that byte order
// is number order.
func seqKey(n uint64, parts ...string) []byte {
	return binary.BigEndian.AppendUint64(prefix(parts...), n)
}

// checkName refuses what would make keys ambiguous or listings misleading:
// an empty name, a NUL byte, other control characters (a name may end up
// in an authorized_keys comment or a terminal).
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("the %s is empty", what)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("the %s %q contains a control character", what, s)
	}
	return nil
}

// idTimeFormat is ISO 8601 basic format in UTC to the microsecond: fixed
// width, so byte order is time order.
const idTimeFormat = "20060102T150405.000000Z"

// crockford is Crockford's base32 alphabet in lower case: no i, l, o, u,
// so an ID read aloud or retyped survives.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// idGen makes IDs such as "20261121T193600.123456Z-k3f9q2": a time, then
// 30 random bits. IDs sort by time, so a bucket read backwards lists the
// newest first. The time never repeats within a process (a burst of
// submissions gets successive microseconds), so even runs submitted in the
// same instant list in the order they were made.
type idGen struct {
	mu   sync.Mutex
	last time.Time
}

func (g *idGen) next() string {
	g.mu.Lock()
	t := time.Now().UTC().Truncate(time.Microsecond)
	if !t.After(g.last) {
		t = g.last.Add(time.Microsecond)
	}
	g.last = t
	g.mu.Unlock()
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	suffix := make([]byte, len(b))
	for i, c := range b {
		suffix[i] = crockford[c&31]
	}
	return t.Format(idTimeFormat) + "-" + string(suffix)
}
