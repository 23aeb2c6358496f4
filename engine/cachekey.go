package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/flow-cwl/flow/internal/digest"
	"github.com/flow-cwl/flow/schema"
)

// A job's cache key has two halves, "<shape>-<contents>". The shape is
// (the first 64 bits of) the SHA-256 of all that decides the job but what
// its input files hold: the tool, the requirements in effect, PATH, the
// image's digest, and the input object with each File reduced to its name
// and size and each Directory to its name. The contents half is (192 bits
// of) the SHA-256 of the shape's document with the files' checksums and
// the directories' listings.
//
// The shape is known at once; the contents may take minutes of reading
// (a 50 GB input that no run has hashed yet). When the cache holds no
// entry of a job's shape, none can match it whatever its files hold: the
// job then starts at once, its inputs hashed while it runs, and its
// outputs are saved under the whole key once that is known.

// keyPlan is a job's shape, and the files its contents half reads.
type keyPlan struct {
	shape string
	doc   []byte    // the canonical JSON the shape is the hash of
	files []keyFile // input Files and Directories, in the order doc numbers them
	big   []string  // paths of input Files of digest.StoredFrom bytes or more
}

// keyFile is what the contents half needs of an input File or Directory:
// its own copy, for the job may change the input objects while its key
// is being computed.
type keyFile struct {
	dir     bool
	path    string
	listing any // a Directory's listing as given, if it was
}

// plan computes the shape of running p on inputs within pe, reading no
// file: names and sizes only.
func (c *Cache) plan(p *schema.Process, inputs map[string]any, pe *procEnv, img *Image) (*keyPlan, error) {
	tool, err := c.toolDigest(p)
	if err != nil {
		return nil, err
	}
	reqs := map[string]any{}
	for class := range schema.KnownRequirements {
		if notCached[class] {
			continue
		}
		if r, ok := pe.find(class); ok {
			reqs[class] = r
		}
	}
	kp := &keyPlan{}
	in, err := kp.canonical(inputs)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{"v": 2, "tool": tool, "requirements": reqs, "inputs": in, "PATH": os.Getenv("PATH")}
	if img != nil {
		// The image's content, not its name: a tag pulled again may hold
		// other software.
		fields["image"] = img.Digest
	}
	if kp.doc, err = json.Marshal(fields); err != nil {
		return nil, err
	}
	h := sha256.Sum256(kp.doc)
	// 64 bits: two shapes that collide only make a job hash its inputs
	// before it starts; the contents half, which hashes the whole
	// document again, is what tells entries apart. A short key keeps
	// the index small at 100,000 entries.
	kp.shape = hex.EncodeToString(h[:8])
	return kp, nil
}

// canonical replaces every File and Directory of v by its name (a File
// also by its size) and its number in kp.files. Maps are walked in key
// order, so the numbers, like the JSON, do not depend on Go's map order.
func (kp *keyPlan) canonical(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, it := range t {
			cv, err := kp.canonical(it)
			if err != nil {
				return nil, err
			}
			out[i] = cv
		}
		return out, nil
	case map[string]any:
		if isFileOrDir(t) {
			return kp.file(t)
		}
		out := make(map[string]any, len(t))
		for _, k := range sortedKeys(t) {
			cv, err := kp.canonical(t[k])
			if err != nil {
				return nil, err
			}
			out[k] = cv
		}
		return out, nil
	}
	return v, nil
}

func (kp *keyPlan) file(m map[string]any) (any, error) {
	out := map[string]any{"class": m["class"], "basename": m["basename"], "n": len(kp.files)}
	f := keyFile{dir: m["class"] == "Directory", path: localPath(m)}
	if f.dir && m["listing"] != nil {
		f.listing = deepCopy(m["listing"])
	}
	kp.files = append(kp.files, f)
	for _, k := range []string{"format", "contents"} {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	if path := f.path; !f.dir && path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		out["size"] = st.Size()
		if st.Size() >= digest.StoredFrom {
			kp.big = append(kp.big, path)
		}
	}
	if sec, ok := m["secondaryFiles"]; ok {
		cs, err := kp.canonical(sec)
		if err != nil {
			return nil, err
		}
		out["secondaryFiles"] = cs
	}
	return out, nil
}

// key completes the plan's key with the hash of its contents.
func (c *Cache) key(ctx context.Context, kp *keyPlan) (string, error) {
	sum, err := c.contents(ctx, kp)
	if err != nil {
		return "", err
	}
	return kp.shape + "-" + sum, nil
}

// contents hashes the plan's document with each input File's checksum
// and each Directory's listing, in the order the document numbers them.
// A listing is planned and hashed the same way, so a Directory stands for
// the names, sizes and checksums of all it holds. It reads every file
// whose checksum the memo does not know.
func (c *Cache) contents(ctx context.Context, kp *keyPlan) (string, error) {
	h := sha256.New()
	h.Write(kp.doc)
	for _, f := range kp.files {
		h.Write([]byte{0})
		if !f.dir {
			if f.path == "" {
				continue // a literal, whose contents are in the document
			}
			sum, _, err := c.sha1Of(ctx, f.path)
			if err != nil {
				return "", err
			}
			h.Write([]byte(sum))
			continue
		}
		listing := f.listing
		if listing == nil {
			l, err := listDir(ctx, f.path, true)
			if err != nil {
				return "", err
			}
			listing = l
		}
		sub := &keyPlan{}
		cl, err := sub.listing(listing)
		if err != nil {
			return "", err
		}
		if sub.doc, err = json.Marshal(cl); err != nil {
			return "", err
		}
		sum, err := c.contents(ctx, sub)
		if err != nil {
			return "", err
		}
		h.Write([]byte(sum))
	}
	// 192 bits: far past any chance of two contents colliding, and the
	// whole key (16 + 1 + 48 characters) no longer than a plain SHA-256
	// in hex, which a 100,000-entry index repeats in every entry's paths.
	return hex.EncodeToString(h.Sum(nil)[:24]), nil
}

// listing is canonical for a listing, which a deep listing left complete
// except for symlinks it did not descend (a loop, a link out of the
// tree): those stand for where they lead, rather than being listed anew
// from there, which would go round the loop.
func (kp *keyPlan) listing(listing any) (any, error) {
	l, ok := listing.([]any)
	if !ok {
		return kp.canonical(listing)
	}
	out := make([]any, len(l))
	for i, it := range l {
		m, ok := it.(map[string]any)
		if ok && m["class"] == "Directory" && m["listing"] == nil {
			target, err := filepath.EvalSymlinks(localPath(m))
			if err != nil {
				return nil, err
			}
			out[i] = map[string]any{"class": "Directory", "basename": m["basename"], "target": target}
			continue
		}
		cv, err := kp.canonical(it)
		if err != nil {
			return nil, err
		}
		out[i] = cv
	}
	return out, nil
}

// unread reports whether finding the key would read a big file that the
// memo knows no checksum for: an input File, or a File in an input
// Directory, whose listing it takes now (the key would take it anyway)
// and keeps for the key.
func (c *Cache) unread(ctx context.Context, kp *keyPlan) bool {
	memo := c.memoOf()
	for _, p := range kp.big {
		if memo.Known(ctx, p) == "" {
			return true
		}
	}
	for i := range kp.files {
		f := &kp.files[i]
		if !f.dir {
			continue
		}
		if f.listing == nil && f.path != "" {
			l, err := listDir(ctx, f.path, true)
			if err != nil {
				continue // the key says why, when it lists it again
			}
			f.listing = l
		}
		big := false
		_ = walkFiles(f.listing, func(m map[string]any) error {
			if m["class"] != "File" {
				return nil
			}
			path := localPath(m)
			if st, err := os.Stat(path); err == nil && st.Size() >= digest.StoredFrom && memo.Known(ctx, path) == "" {
				big = true
				return errFound
			}
			return nil
		})
		if big {
			return true
		}
	}
	return false
}

// errFound stops a walk that found what it looked for.
var errFound = errors.New("found")

// mayHold reports whether the cache has an entry under any of the
// prefixes; on an error it says it may (the job then waits for its key).
func (c *Cache) mayHold(ctx context.Context, prefixes ...string) bool {
	for _, p := range prefixes {
		if found, err := c.Store.HasCachePrefix(ctx, p); found || err != nil {
			return true
		}
	}
	return false
}
