package provenance

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Bucket names; the tree they form is drawn in bolt.go.
var (
	bucketMeta      = []byte("meta")
	bucketRuns      = []byte("runs")
	bucketAttempts  = []byte("attempts")
	bucketGenerated = []byte("generated")
	bucketPaths     = []byte("paths")
	bucketCache     = []byte("cache")
	bucketValues    = []byte("values")
	bucketDelivered = []byte("delivered")
	bucketSums      = []byte("sums")

	allBuckets = [][]byte{bucketMeta, bucketRuns, bucketAttempts, bucketGenerated, bucketPaths, bucketCache, bucketValues, bucketDelivered, bucketSums}

	keySchemaVersion = []byte("schema_version")
)

// sep joins the parts of composite keys. No run ID, job path or digest
// contains a NUL byte (validateKeyPart makes sure), so a prefix ending in
// sep selects exactly one parent: "run1\x00" never matches "run10\x00...".
const sep = 0

// attemptKey is <runID>\x00<job>\x00<attempt as 4-byte big-endian>: all
// attempts of a run are contiguous, and retries of a job sort by number.
func attemptKey(runID, job string, attempt int) []byte {
	k := make([]byte, 0, len(runID)+len(job)+6)
	k = append(k, runID...)
	k = append(k, sep)
	k = append(k, job...)
	k = append(k, sep)
	return binary.BigEndian.AppendUint32(k, uint32(attempt))
}

// runPrefix selects the keys of one run in the attempts bucket.
func runPrefix(runID string) []byte {
	return append([]byte(runID), sep)
}

// generatedKey is <sha1>\x00<attemptKey>: every attempt that produced the
// content, found by one prefix scan.
func generatedKey(sha1 string, attKey []byte) []byte {
	k := make([]byte, 0, len(sha1)+1+len(attKey))
	k = append(k, sha1...)
	k = append(k, sep)
	return append(k, attKey...)
}

// attemptKeyFromGenerated strips the <sha1>\x00 prefix off a generated key.
func attemptKeyFromGenerated(k []byte, sha1 string) []byte {
	return bytes.Clone(k[len(sha1)+1:])
}

// pathValue is a paths-bucket value: when the record was made, as 8-byte
// big-endian Unix nanoseconds, then the JSON record. The time comes first
// so a writer can tell whether it holds newer news without decoding JSON
// inside the transaction.
func pathValue(seen time.Time, js []byte) []byte {
	v := make([]byte, 0, 8+len(js))
	v = binary.BigEndian.AppendUint64(v, uint64(seen.UnixNano()))
	return append(v, js...)
}

// pathValueSeen returns the time a paths-bucket value was recorded.
func pathValueSeen(v []byte) int64 {
	if len(v) < 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v[:8]))
}

// validateKeyPart refuses the one byte that would make composite keys
// ambiguous.
func validateKeyPart(what, s string) error {
	if s == "" {
		return fmt.Errorf("the %s is empty", what)
	}
	if strings.IndexByte(s, sep) >= 0 {
		return fmt.Errorf("the %s %q contains a NUL byte", what, s)
	}
	return nil
}

// runIDTimeFormat is ISO 8601 basic format in UTC with milliseconds: fixed
// width, so byte order is time order.
const runIDTimeFormat = "20060102T150405.000Z"

// crockford is Crockford's base32 alphabet in lower case: no i, l, o, u,
// so an ID read aloud or retyped from a printout survives.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewRunID returns a new run ID such as "20261121T193600.123Z-k3f9q2": the
// UTC start time to the millisecond, then 30 random bits. IDs sort by time,
// so the runs bucket read backwards lists the newest run first, and a user
// can name a run by a prefix such as "20261121T1936".
func NewRunID() string {
	return newRunID(time.Now())
}

func newRunID(t time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	suffix := make([]byte, len(b))
	for i, c := range b {
		suffix[i] = crockford[c&31]
	}
	return t.UTC().Format(runIDTimeFormat) + "-" + string(suffix)
}
