package provenance

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/flow-cwl/flow/internal/cwljson"
)

// How CWL values (a run's inputs and outputs, an attempt's or a cache
// entry's outputs) are stored.
//
// A value is whatever a user passed in, so it can be large or deeply
// nested. Three rules keep either from hurting the database:
//
//   - A string longer than bigString is stored apart, once, in the values
//     bucket: key the SHA-256 of its bytes, value those bytes compressed.
//     In the value it is replaced by blobMark followed by "sha256:" and
//     that digest; a string of the user's that begins with blobMark gets
//     one more in front, so the two never mix.
//   - The value's JSON, once large strings are out, stays in the record
//     when it is at most inlineMax bytes, and goes to the values bucket
//     like a string otherwise. A run recorded three times (created,
//     inputs known, finished) and a job's outputs repeated as the run's
//     outputs therefore cost their size once.
//   - JSON stored apart is decoded token by token (decodeValue), which has
//     no nesting limit; encoding/json refuses more than 10,000 levels,
//     and a record it could not read would break every listing. Inline
//     JSON is short enough (inlineMax) to stay far below that limit.
const (
	bigString = 4 << 10
	inlineMax = 1 << 10
	blobMark  = "\x00"
	refPrefix = "sha256:"
)

// valuesVersion marks records whose values follow the rules above, as
// opposed to records written before them (plain JSON inline).
const valuesVersion = 2

// packed is a value ready to store: inline JSON or a reference, and the
// blobs (key: hex SHA-256) it needs in the values bucket.
type packed struct {
	inline json.RawMessage
	ref    string
	blobs  map[string][]byte
}

// packValue prepares v for storing. A nil v packs to nothing.
//
// The JSON is written piece by piece into the blob's compressor and
// digest, keeping only the first inlineMax bytes as they are: a run's
// output object of 100,000 Files is never held as JSON, only compressed.
// Nor is v copied unless it holds strings to store apart.
func packValue(v any, blobs map[string][]byte) (packed, error) {
	if v == nil {
		return packed{}, nil
	}
	if hasBigStrings(v) {
		v = extractStrings(v, blobs)
	}
	if nodes(v, streamFrom) < streamFrom { // a job's outputs, typically
		js, err := json.Marshal(v)
		if err != nil {
			return packed{}, err
		}
		if len(js) <= inlineMax {
			return packed{inline: js}, nil
		}
		key, err := addBlob(blobs, js)
		return packed{ref: key}, err
	}
	pw := &packWriter{}
	if err := writeCompact(pw, v); err != nil {
		return packed{}, err
	}
	if pw.gz == nil {
		return packed{inline: pw.head.Bytes()}, nil
	}
	key, err := pw.blob(blobs)
	return packed{ref: key}, err
}

// streamFrom is how many lists, objects and values a value has when
// packValue writes its JSON piece by piece rather than encode it whole.
const streamFrom = 4096

// nodes counts the lists, objects and other values in v, up to limit.
func nodes(v any, limit int) int {
	n := 1
	switch t := v.(type) {
	case map[string]any:
		for _, e := range t {
			if n >= limit {
				break
			}
			n += nodes(e, limit-n)
		}
	case []any:
		for _, e := range t {
			if n >= limit {
				break
			}
			n += nodes(e, limit-n)
		}
	}
	return n
}

// packWriter takes a value's JSON: it keeps up to inlineMax bytes as
// they are; past that, it digests and compresses all of them, as addBlob
// would.
type packWriter struct {
	head bytes.Buffer
	sum  hash.Hash
	gz   *gzip.Writer // nil while the JSON may still be inline
	zbuf bytes.Buffer
}

func (pw *packWriter) Write(b []byte) (int, error) {
	if pw.gz == nil {
		if pw.head.Len()+len(b) <= inlineMax {
			return pw.head.Write(b)
		}
		var err error
		if pw.gz, err = gzip.NewWriterLevel(&pw.zbuf, gzip.BestSpeed); err != nil {
			return 0, err
		}
		pw.sum = sha256.New()
		if _, err := pw.write(pw.head.Bytes()); err != nil {
			return 0, err
		}
		pw.head = bytes.Buffer{}
	}
	return pw.write(b)
}

func (pw *packWriter) write(b []byte) (int, error) {
	pw.sum.Write(b)
	return pw.gz.Write(b)
}

// blob adds what was written to blobs and returns its key.
func (pw *packWriter) blob(blobs map[string][]byte) (string, error) {
	key := hex.EncodeToString(pw.sum.Sum(nil))
	if _, ok := blobs[key]; ok {
		return key, nil
	}
	if err := pw.gz.Close(); err != nil {
		return "", err
	}
	blobs[key] = pw.zbuf.Bytes()
	return key, nil
}

// writeCompact writes v as json.Marshal would, walking lists and objects
// itself so that no whole encoding is built.
func writeCompact(w io.Writer, v any) error {
	switch t := v.(type) {
	case map[string]any:
		if t == nil {
			break
		}
		keys := slices.Sorted(maps.Keys(t))
		if _, err := io.WriteString(w, "{"); err != nil {
			return err
		}
		for i, k := range keys {
			if i > 0 {
				io.WriteString(w, ",")
			}
			if err := writeCompact(w, k); err != nil {
				return err
			}
			io.WriteString(w, ":")
			if err := writeCompact(w, t[k]); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "}")
		return err
	case []any:
		if t == nil {
			break
		}
		io.WriteString(w, "[")
		for i, it := range t {
			if i > 0 {
				io.WriteString(w, ",")
			}
			if err := writeCompact(w, it); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "]")
		return err
	}
	js, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(js)
	return err
}

// hasBigStrings reports whether v holds a string that extractStrings
// would change.
func hasBigStrings(v any) bool {
	switch t := v.(type) {
	case string:
		return len(t) > bigString || strings.HasPrefix(t, blobMark)
	case map[string]any:
		for _, e := range t {
			if hasBigStrings(e) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(t, hasBigStrings)
	}
	return false
}

// extractStrings copies v with its large strings replaced by references,
// whose bytes it adds to blobs.
func extractStrings(v any, blobs map[string][]byte) any {
	switch t := v.(type) {
	case string:
		if len(t) > bigString {
			if key, err := addBlob(blobs, []byte(t)); err == nil {
				return blobMark + refPrefix + key
			}
		}
		if strings.HasPrefix(t, blobMark) {
			return blobMark + t
		}
		return t
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = extractStrings(e, blobs)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = extractStrings(e, blobs)
		}
		return l
	}
	return v
}

// addBlob compresses data into blobs under its digest, once.
func addBlob(blobs map[string][]byte, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:])
	if _, ok := blobs[key]; ok {
		return key, nil
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // large values are rare; a run should not wait on them
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(data); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	blobs[key] = buf.Bytes()
	return key, nil
}

// blobLoader returns the bytes stored under a hex SHA-256 key.
type blobLoader func(key string) ([]byte, error)

// errStoredApart: a listing that does not load blobs met a value that
// needs one.
var errStoredApart = errors.New("stored apart")

// unpackValue turns a stored value back into Go values: inline JSON, or
// the JSON stored under ref. A nil load leaves values that need the
// values bucket out (errStoredApart).
func unpackValue(inline json.RawMessage, ref string, load blobLoader) (any, error) {
	data := []byte(inline)
	if ref != "" {
		if load == nil {
			return nil, errStoredApart
		}
		var err error
		if data, err = load(ref); err != nil {
			return nil, err
		}
	}
	if len(data) == 0 {
		return nil, nil
	}
	return decodeValue(data, func(s string) (string, error) {
		rest, ok := strings.CutPrefix(s, blobMark)
		if !ok || strings.HasPrefix(rest, blobMark) {
			return rest, nil // an escaped string of the user's
		}
		key, ok := strings.CutPrefix(rest, refPrefix)
		if !ok {
			return s, nil
		}
		if load == nil {
			return "", errStoredApart
		}
		b, err := load(key)
		return string(b), err
	})
}

// unpackObject is unpackValue for an input or output object.
func unpackObject(inline json.RawMessage, ref string, load blobLoader) (map[string]any, error) {
	v, err := unpackValue(inline, ref, load)
	if err != nil || v == nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a stored object is a %T", v)
	}
	return m, nil
}

// decodeValue decodes JSON as flow holds CWL values (integers as int64,
// other numbers as float64, numbers neither holds exactly as their
// literal: see cwljson), at any depth: it keeps its own stack of open
// arrays and objects, and encoding/json's Decoder.Token, unlike Decode,
// does not count nesting. str rewrites each string value (not keys).
func decodeValue(data []byte, str func(string) (string, error)) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type open struct {
		obj map[string]any
		arr []any
		key string // the key the next value of obj goes under
	}
	var stack []*open
	var root any
	haveKey := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		var v any
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &open{obj: map[string]any{}})
				haveKey = false
				continue
			case '[':
				stack = append(stack, &open{arr: []any{}})
				continue
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.obj != nil {
				v = top.obj
			} else {
				v = top.arr
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj != nil && !haveKey {
				stack[n-1].key, haveKey = t, true
				continue
			}
			if v, err = str(t); err != nil {
				return nil, err
			}
		case json.Number:
			v = cwljson.NumberOrLiteral(t) // exact: see cwljson
		default: // bool, nil
			v = t
		}
		if len(stack) == 0 {
			root = v
			continue
		}
		top := stack[len(stack)-1]
		if top.obj != nil {
			top.obj[top.key], haveKey = v, false
		} else {
			top.arr = append(top.arr, v)
		}
	}
	return root, nil
}

// inflate is the inverse of addBlob's compression.
func inflate(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
