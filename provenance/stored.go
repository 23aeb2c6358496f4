package provenance

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/flow-cwl/flow/internal/cwljson"
)

// The stored forms of records: the record's own fields, with its CWL
// values packed as values.go describes. The outer fields shadow the
// embedded record's fields of the same JSON name.

type runAlias Run

type storedRun struct {
	*runAlias
	Inputs     json.RawMessage `json:"inputs,omitempty"`
	Outputs    json.RawMessage `json:"outputs,omitempty"`
	InputsRef  string          `json:"inputs_ref,omitempty"`
	OutputsRef string          `json:"outputs_ref,omitempty"`
	Values     int             `json:"values,omitempty"`
}

type attemptAlias Attempt

type storedAttempt struct {
	*attemptAlias
	Outputs    json.RawMessage `json:"outputs,omitempty"`
	OutputsRef string          `json:"outputs_ref,omitempty"`
	Values     int             `json:"values,omitempty"`
}

type cacheAlias CacheEntry

type storedCache struct {
	*cacheAlias
	Outputs    json.RawMessage `json:"outputs,omitempty"`
	OutputsRef string          `json:"outputs_ref,omitempty"`
	Values     int             `json:"values,omitempty"`
}

// packObject packs an input or output object; nil stays nil (omitted).
func packObject(m map[string]any, blobs map[string][]byte) (packed, error) {
	if m == nil {
		return packed{}, nil
	}
	return packValue(m, blobs)
}

func encodeRun(r *Run) ([]byte, map[string][]byte, error) {
	blobs := map[string][]byte{}
	in, err := packObject(r.Inputs, blobs)
	if err != nil {
		return nil, nil, err
	}
	out, err := packObject(r.Outputs, blobs)
	if err != nil {
		return nil, nil, err
	}
	js, err := json.Marshal(storedRun{runAlias: (*runAlias)(r), Inputs: in.inline, Outputs: out.inline,
		InputsRef: in.ref, OutputsRef: out.ref, Values: valuesVersion})
	return js, blobs, err
}

func encodeAttempt(a *Attempt) ([]byte, map[string][]byte, error) {
	blobs := map[string][]byte{}
	out, err := packObject(a.Outputs, blobs)
	if err != nil {
		return nil, nil, err
	}
	js, err := json.Marshal(storedAttempt{attemptAlias: (*attemptAlias)(a), Outputs: out.inline, OutputsRef: out.ref, Values: valuesVersion})
	return js, blobs, err
}

func encodeCache(e *CacheEntry) ([]byte, map[string][]byte, error) {
	blobs := map[string][]byte{}
	out, err := packObject(e.Outputs, blobs)
	if err != nil {
		return nil, nil, err
	}
	js, err := json.Marshal(storedCache{cacheAlias: (*cacheAlias)(e), Outputs: out.inline, OutputsRef: out.ref, Values: valuesVersion})
	return js, blobs, err
}

// unpackStored decodes a record's packed object. Records written before
// values were packed hold plain JSON, whose strings are taken as they are.
func unpackStored(version int, inline json.RawMessage, ref string, load blobLoader) (map[string]any, error) {
	if version < valuesVersion {
		if len(inline) == 0 {
			return nil, nil
		}
		var m map[string]any
		if err := cwljson.Decode(inline, &m); err != nil {
			return nil, err
		}
		cwljson.Normalize(m)
		return m, nil
	}
	return unpackObject(inline, ref, load)
}

// decodeRunWith decodes a run record; a nil load leaves out the values
// stored apart (for listings), which are nil in the Run.
func decodeRunWith(data []byte, load blobLoader) (*Run, error) {
	s := storedRun{runAlias: new(runAlias)}
	if err := cwljson.Decode(data, &s); err != nil {
		return nil, err
	}
	r := (*Run)(s.runAlias)
	var err error
	if r.Inputs, err = unpackStored(s.Values, s.Inputs, s.InputsRef, load); err != nil && err != errStoredApart {
		return nil, fmt.Errorf("its inputs: %w", err)
	}
	if r.Outputs, err = unpackStored(s.Values, s.Outputs, s.OutputsRef, load); err != nil && err != errStoredApart {
		return nil, fmt.Errorf("its outputs: %w", err)
	}
	return r, nil
}

func decodeAttemptWith(data []byte, load blobLoader) (*Attempt, error) {
	s := storedAttempt{attemptAlias: new(attemptAlias)}
	if err := cwljson.Decode(data, &s); err != nil {
		return nil, err
	}
	a := (*Attempt)(s.attemptAlias)
	var err error
	if a.Outputs, err = unpackStored(s.Values, s.Outputs, s.OutputsRef, load); err != nil {
		return nil, fmt.Errorf("its outputs: %w", err)
	}
	return a, nil
}

func decodeCacheWith(data []byte, load blobLoader) (*CacheEntry, error) {
	s := storedCache{cacheAlias: new(cacheAlias)}
	if err := cwljson.Decode(data, &s); err != nil {
		return nil, err
	}
	e := (*CacheEntry)(s.cacheAlias)
	var err error
	if e.Outputs, err = unpackStored(s.Values, s.Outputs, s.OutputsRef, load); err != nil {
		return nil, fmt.Errorf("its outputs: %w", err)
	}
	return e, nil
}

// putBlobs stores each blob unless its key is there already: the same
// bytes are the same key, and rewriting a large value would only make
// bbolt copy it to new pages.
func putBlobs(tx *bolt.Tx, blobs map[string][]byte) error {
	if len(blobs) == 0 {
		return nil
	}
	b := tx.Bucket(bucketValues)
	for k, v := range blobs {
		if b.Get([]byte(k)) != nil {
			continue
		}
		if err := b.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// loadBlob reads and inflates one blob of the values bucket.
func (d *DB) loadBlob(key string) ([]byte, error) {
	var data []byte
	err := d.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketValues); b != nil {
			data = bytes.Clone(b.Get([]byte(key)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("the value sha256:%s is missing", key)
	}
	out, err := inflate(data)
	if err != nil {
		return nil, fmt.Errorf("the value sha256:%s cannot be read: %w", key, err)
	}
	return out, nil
}
