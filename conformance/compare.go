package conformance

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Mismatch describes the first difference Compare found.
type Mismatch struct {
	Path     string // JSON path of the difference, rooted at "$"
	Expected any
	Actual   any
	Reason   string // why the values differ, when equality alone does not say
}

func (m *Mismatch) Error() string {
	if m.Reason == "" {
		return fmt.Sprintf("%s: expected %s, got %s", m.Path, render(m.Expected), render(m.Actual))
	}
	return fmt.Sprintf("%s: %s (expected %s, got %s)", m.Path, m.Reason, render(m.Expected), render(m.Actual))
}

// Compare reports whether actual, a runner's output object, satisfies
// expected, a test's output, under cwltest's rules. It returns nil on a
// match and a *Mismatch otherwise. File and Directory values are checked
// against the disk, so Compare must run before the output directory goes.
// Neither argument is modified.
func Compare(expected, actual any) error {
	if m := compareAt("$", normalize(expected), normalize(actual)); m != nil {
		return m
	}
	return nil
}

func compareAt(path string, exp, act any) *Mismatch {
	if exp == "Any" {
		return nil
	}
	if exp != nil && act == nil {
		return &Mismatch{Path: path, Expected: exp, Actual: act}
	}
	switch e := exp.(type) {
	case map[string]any:
		a, ok := act.(map[string]any)
		if !ok {
			return &Mismatch{Path: path, Expected: exp, Actual: act, Reason: "expected an object"}
		}
		switch e["class"] {
		case "File":
			return compareFile(path, e, a)
		case "Directory":
			return compareDirectory(path, e, a)
		}
		return compareObject(path, e, a)
	case []any:
		return compareList(path, e, act)
	}
	if !scalarEqual(exp, act) {
		return &Mismatch{Path: path, Expected: exp, Actual: act}
	}
	return nil
}

func compareList(path string, e []any, act any) *Mismatch {
	a, ok := act.([]any)
	if !ok {
		return &Mismatch{Path: path, Expected: e, Actual: act, Reason: "expected a list"}
	}
	if len(e) != len(a) {
		reason := fmt.Sprintf("expected %d items, got %d", len(e), len(a))
		return &Mismatch{Path: path, Expected: e, Actual: a, Reason: reason}
	}
	for i := range e {
		if m := compareAt(fmt.Sprintf("%s[%d]", path, i), e[i], a[i]); m != nil {
			return m
		}
	}
	return nil
}

// compareObject checks every expected key, where an expected null also
// accepts a missing key, and then refuses extra keys unless they are null:
// a runner may spell "absent" either way.
func compareObject(path string, e, a map[string]any) *Mismatch {
	for _, k := range sortedKeys(e) {
		if m := compareAt(keyPath(path, k), e[k], a[k]); m != nil {
			return m
		}
	}
	for _, k := range sortedKeys(a) {
		if _, ok := e[k]; !ok && a[k] != nil {
			return &Mismatch{Path: keyPath(path, k), Actual: a[k], Reason: "unexpected key"}
		}
	}
	return nil
}

// scalarEqual compares leaves. Numbers compare by value, so 1 matches 1.0;
// everything else must have the same type and value. Unlike Python, a
// boolean never equals a number.
func scalarEqual(e, a any) bool {
	switch x := e.(type) {
	case int64:
		switch y := a.(type) {
		case int64:
			return x == y
		case float64:
			return float64(x) == y
		}
		return false
	case float64:
		switch y := a.(type) {
		case int64:
			return x == float64(y)
		case float64:
			return x == y
		}
		return false
	case nil:
		return a == nil
	case string, bool:
		return e == a
	}
	return false
}

// compareFile follows cwltest's _compare_file: location, then contents, then
// the checksum and size recomputed from the disk, then every other expected
// key. Extra keys in the actual File are allowed.
func compareFile(path string, e, a map[string]any) *Mismatch {
	if m := compareLocation(path, e, a); m != nil {
		return m
	}
	if want, ok := e["contents"]; ok {
		if m := compareContents(path, want, a); m != nil {
			return m
		}
	}
	if a["class"] == "File" {
		if m := compareDigest(path, e, a); m != nil {
			return m
		}
	}
	skip := []string{"path", "location", "listing", "contents", "checksum", "size"}
	for _, k := range sortedKeys(e) {
		if slices.Contains(skip, k) {
			continue
		}
		if m := compareAt(keyPath(path, k), e[k], a[k]); m != nil {
			return m
		}
	}
	return nil
}

// compareDirectory requires each expected listing entry to match some actual
// entry, in any order, with extras allowed; then checks it like a File
// (location and other keys; directories have no checksum or size).
func compareDirectory(path string, e, a map[string]any) *Mismatch {
	if a["class"] != "Directory" {
		return &Mismatch{Path: keyPath(path, "class"), Expected: "Directory", Actual: a["class"]}
	}
	listing, ok := a["listing"]
	if !ok {
		return &Mismatch{Path: path, Expected: e, Actual: a, Reason: "the output Directory has no listing"}
	}
	actual, ok := listing.([]any)
	if !ok {
		return &Mismatch{Path: keyPath(path, "listing"), Actual: listing, Reason: "listing is not a list"}
	}
	// cwltest fails an expected Directory without a listing (a KeyError);
	// here it simply places no constraint on the entries.
	want, ok := e["listing"].([]any)
	if !ok && e["listing"] != nil {
		return &Mismatch{Path: keyPath(path, "listing"), Expected: e["listing"], Reason: "the expected listing is not a list"}
	}
	for i, w := range want {
		if !slices.ContainsFunc(actual, func(got any) bool { return compareAt("$", w, got) == nil }) {
			reason := fmt.Sprintf("no entry matches expected listing[%d]; actual entries are %s", i, listingNames(actual))
			return &Mismatch{Path: keyPath(path, "listing"), Expected: w, Actual: nil, Reason: reason}
		}
	}
	return compareFile(path, e, a)
}

// listingNames summarises a listing by basename, or by location when an
// entry has no basename, for the "no entry matches" message.
func listingNames(listing []any) string {
	names := make([]string, 0, len(listing))
	for _, item := range listing {
		obj, _ := item.(map[string]any)
		name, ok := obj["basename"].(string)
		if !ok {
			name, _ = obj["location"].(string)
		}
		names = append(names, name)
	}
	return render(names)
}

// compareLocation follows cwltest: an expected path is compared with the
// actual path (or location when there is none), an expected location with
// the actual path when present, else the actual location. The actual value
// must exist on disk and end with "/" + expected, or equal it when it holds
// no slash at all. "Any" waives the suffix test but not the existence test.
func compareLocation(path string, e, a map[string]any) *Mismatch {
	expKey := "location"
	if _, ok := e["path"]; ok {
		expKey = "path"
	} else if _, ok := e["location"]; !ok {
		return nil
	}
	actKey := "location"
	if _, ok := a["path"]; ok {
		actKey = "path"
	}
	got, ok := a[actKey].(string)
	if !ok {
		return &Mismatch{Path: keyPath(path, actKey), Expected: e[expKey], Actual: a[actKey], Reason: "the output has no usable path or location"}
	}
	isDir := a["class"] == "Directory"
	if isDir {
		got = strings.TrimRight(got, "/")
	}
	if !exists(got, isDir) {
		return &Mismatch{Path: keyPath(path, actKey), Expected: e[expKey], Actual: got, Reason: "it does not exist on disk"}
	}
	want := e[expKey]
	if want == "Any" {
		return nil
	}
	ws, ok := want.(string)
	if !ok || !(strings.HasSuffix(got, "/"+ws) || (!strings.Contains(got, "/") && got == ws)) {
		return &Mismatch{Path: keyPath(path, actKey), Expected: want, Actual: got, Reason: "it does not end with the expected name"}
	}
	return nil
}

func compareContents(path string, want any, a map[string]any) *Mismatch {
	data, err := readFile(a)
	if err != nil {
		return &Mismatch{Path: keyPath(path, "contents"), Expected: want, Reason: err.Error()}
	}
	if want != string(data) {
		return &Mismatch{Path: keyPath(path, "contents"), Expected: want, Actual: string(data), Reason: "the file contents differ"}
	}
	return nil
}

// compareDigest recomputes sha1 and size from the disk and holds both the
// expected values and the ones the runner declared to them: a runner that
// reports a right checksum for a wrong file must not pass.
func compareDigest(path string, e, a map[string]any) *Mismatch {
	sum, size, err := digest(a)
	if err != nil {
		return &Mismatch{Path: path, Expected: e, Actual: a, Reason: err.Error()}
	}
	checks := []struct {
		key    string
		onDisk any
	}{{"checksum", sum}, {"size", size}}
	for _, c := range checks {
		if declared, ok := a[c.key]; ok && !scalarEqual(c.onDisk, declared) {
			reason := fmt.Sprintf("the output object declares %s but the file on disk has %s", render(declared), render(c.onDisk))
			return &Mismatch{Path: keyPath(path, c.key), Expected: c.onDisk, Actual: declared, Reason: reason}
		}
		if want, ok := e[c.key]; ok && !scalarEqual(want, c.onDisk) {
			return &Mismatch{Path: keyPath(path, c.key), Expected: want, Actual: c.onDisk, Reason: "recomputed from the file on disk"}
		}
	}
	return nil
}

// digest returns "sha1$<hex>" and the size of the file an output names.
func digest(a map[string]any) (string, int64, error) {
	p, err := fileOf(a)
	if err != nil {
		return "", 0, err
	}
	f, err := openRegular(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha1.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("cannot read the output file: %w", err)
	}
	return "sha1$" + hex.EncodeToString(h.Sum(nil)), n, nil
}

func readFile(a map[string]any) ([]byte, error) {
	p, err := fileOf(a)
	if err != nil {
		return nil, err
	}
	f, err := openRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("cannot read the output file: %w", err)
	}
	return data, nil
}

// openRegular opens an output file for reading, refusing anything but a
// regular file: reading a FIFO or /dev/zero named by a broken runner would
// hang the harness.
func openRegular(p string) (*os.File, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read the output file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("the output file %s is not a regular file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read the output file: %w", err)
	}
	return f, nil
}

// fileOf finds the local file an output object names, preferring path over
// location as cwltest does.
func fileOf(a map[string]any) (string, error) {
	ref, ok := a["path"].(string)
	if !ok {
		ref, ok = a["location"].(string)
	}
	if !ok {
		return "", fmt.Errorf("the output names no file: it has no string path or location")
	}
	return localPath(ref)
}

// localPath turns a file:// URI or a plain path into a path on this machine.
func localPath(ref string) (string, error) {
	if strings.HasPrefix(ref, "file://") {
		u, err := url.Parse(ref)
		if err != nil {
			return "", fmt.Errorf("the location %q is not a valid file URI: %w", ref, err)
		}
		return u.Path, nil
	}
	if strings.Contains(ref, "://") {
		return "", fmt.Errorf("the location %q is not on the local file system", ref)
	}
	return ref, nil
}

func exists(ref string, dir bool) bool {
	p, err := localPath(ref)
	if err != nil {
		return false
	}
	info, err := os.Stat(p)
	if err != nil {
		return false
	}
	if dir {
		return info.IsDir()
	}
	return info.Mode().IsRegular()
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// keyPath extends a JSON path by an object key, bracketing keys that are not
// plain identifiers so the path stays unambiguous.
func keyPath(path, key string) string {
	if identifier.MatchString(key) {
		return path + "." + key
	}
	return fmt.Sprintf("%s[%q]", path, key)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
