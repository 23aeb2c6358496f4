package conformance

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// helloSHA1 is the sha1 of "hello\n", the contents of the files below.
const helloSHA1 = "sha1$f572d396fae9206628714fb2ce00f72e94f2258f"

type compareCase struct {
	name     string
	expected any
	actual   any
	path     string // "" when the values must match, else the mismatch path
}

func runCompareCases(t *testing.T, cases []compareCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Compare(c.expected, c.actual)
			if c.path == "" {
				if err != nil {
					t.Fatalf("want a match, got %v", err)
				}
				return
			}
			var m *Mismatch
			if !errors.As(err, &m) {
				t.Fatalf("want a mismatch at %s, got %v", c.path, err)
			}
			if m.Path != c.path {
				t.Fatalf("mismatch at %s, want %s (%v)", m.Path, c.path, err)
			}
		})
	}
}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestCompareValues(t *testing.T) {
	runCompareCases(t, []compareCase{
		{"Any matches a number", "Any", int64(3), ""},
		{"Any matches null", "Any", nil, ""},
		{"Any matches an object", obj("a", "Any"), obj("a", obj("x", int64(1))), ""},
		{"Any is only the exact string", "any", "x", "$"},
		{"non-null expected vs null", int64(1), nil, "$"},
		{"null expected vs missing key", obj("a", nil), obj(), ""},
		{"null expected vs a value", obj("a", nil), obj("a", int64(0)), "$.a"},
		{"missing expected key", obj("a", int64(1)), obj(), "$.a"},
		{"extra null key is fine", obj(), obj("extra", nil), ""},
		{"extra key with a value fails", obj(), obj("extra", "x"), "$.extra"},
		{"int equals float", int64(1), 1.0, ""},
		{"float equals int", 2.0, int64(2), ""},
		{"different numbers", int64(1), 1.5, "$"},
		{"number vs string", int64(1), "1", "$"},
		{"bool vs number", true, int64(1), "$"},
		{"strings", "a", "a", ""},
		{"string differs", "a", "b", "$"},
		{"lists in order", []any{int64(1), "x"}, []any{1.0, "x"}, ""},
		{"lists out of order", []any{int64(1), int64(2)}, []any{int64(2), int64(1)}, "$[0]"},
		{"list lengths differ", []any{int64(1)}, []any{int64(1), int64(2)}, "$"},
		{"list vs object", []any{}, obj(), "$"},
		{"object vs list", obj(), []any{}, "$"},
		{"nested path", obj("a", []any{obj("b", int64(1))}), obj("a", []any{obj("b", int64(2))}), "$.a[0].b"},
		{"odd key is bracketed", obj("a-b", int64(1)), obj("a-b", int64(2)), `$["a-b"]`},
		{"null vs null", nil, nil, ""},
		{"null vs empty object", nil, obj(), "$"},
		{"plain ints normalised", map[string]any{"n": 3}, map[string]any{"n": int64(3)}, ""},
	})
}

// writeHello creates dir/name holding "hello\n" and returns its path.
func writeHello(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fileObj(kv ...any) map[string]any { return obj(append([]any{"class", "File"}, kv...)...) }

func TestCompareFileLocation(t *testing.T) {
	dir := t.TempDir()
	p := writeHello(t, dir, "sub/out.txt")
	uri := "file://" + p
	runCompareCases(t, []compareCase{
		{"location suffix", fileObj("location", "out.txt"), fileObj("location", uri), ""},
		{"multi-segment suffix", fileObj("location", "sub/out.txt"), fileObj("location", uri), ""},
		{"suffix must follow a slash", fileObj("location", "t.txt"), fileObj("location", uri), "$.location"},
		{"wrong name", fileObj("location", "other.txt"), fileObj("location", uri), "$.location"},
		{"Any location", fileObj("location", "Any"), fileObj("location", uri), ""},
		{"expected path vs actual location", fileObj("path", "out.txt"), fileObj("location", uri), ""},
		{"expected path vs actual path", fileObj("path", "out.txt"), fileObj("path", p, "location", "file:///elsewhere/x"), ""},
		{"expected location vs actual path wins", fileObj("location", "out.txt"), fileObj("path", p, "location", "file:///nowhere/out.txt"), ""},
		{"expected location vs wrong actual path", fileObj("location", "out.txt"), fileObj("path", filepath.Join(dir, "sub")+"/", "location", uri), "$.path"},
		{"plain path as location", fileObj("location", "out.txt"), fileObj("location", p), ""},
		{"missing file with Any", fileObj("location", "Any"), fileObj("location", uri+".gone"), "$.location"},
		{"missing file with a matching name", fileObj("location", "out.txt.gone"), fileObj("location", uri+".gone"), "$.location"},
		{"a directory is not a file", fileObj("location", "sub"), fileObj("location", "file://"+filepath.Join(dir, "sub")), "$.location"},
		{"no location in actual", fileObj("location", "out.txt"), fileObj(), "$.location"},
		{"remote location", fileObj("location", "out.txt"), fileObj("location", "http://example.com/out.txt"), "$.location"},
		{"actual must be a File", fileObj(), obj("class", "Directory", "location", "file://"+filepath.Join(dir, "sub")), "$.class"},
		{"a File's location is checked as a file", fileObj("location", "out.txt"), obj("class", "Directory", "location", uri), "$.location"},
	})
}

// TestCompareBareName covers the rule's second half: a value without any
// slash must equal the expected name exactly.
func TestCompareBareName(t *testing.T) {
	dir := t.TempDir()
	writeHello(t, dir, "out.txt")
	t.Chdir(dir)
	runCompareCases(t, []compareCase{
		{"equal bare names", fileObj("location", "out.txt"), fileObj("location", "out.txt"), ""},
		{"bare name vs longer expectation", fileObj("location", "x/out.txt"), fileObj("location", "out.txt"), "$.location"},
	})
}

func TestCompareFileDetails(t *testing.T) {
	dir := t.TempDir()
	p := writeHello(t, dir, "out.txt")
	uri := "file://" + p
	wrongSum := "sha1$0000000000000000000000000000000000000000"
	runCompareCases(t, []compareCase{
		{"checksum recomputed", fileObj("checksum", helloSHA1), fileObj("location", uri), ""},
		{"expected checksum wrong", fileObj("checksum", wrongSum), fileObj("location", uri, "checksum", wrongSum), "$.checksum"},
		{"declared checksum wrong", fileObj("location", "out.txt"), fileObj("location", uri, "checksum", wrongSum), "$.checksum"},
		{"size recomputed", fileObj("size", int64(6)), fileObj("location", uri), ""},
		{"size as float", fileObj("size", 6.0), fileObj("location", uri, "size", int64(6)), ""},
		{"expected size wrong", fileObj("size", int64(7)), fileObj("location", uri), "$.size"},
		{"declared size wrong", fileObj("location", "out.txt"), fileObj("location", uri, "size", int64(99)), "$.size"},
		{"file missing though location not expected", fileObj("size", int64(6)), fileObj("location", uri+".gone"), "$"},
		{"contents match", fileObj("contents", "hello\n"), fileObj("location", uri), ""},
		{"contents differ", fileObj("contents", "hello"), fileObj("location", uri), "$.contents"},
		{"other keys compared", fileObj("basename", "out.txt"), fileObj("location", uri, "basename", "x.txt"), "$.basename"},
		{"extra actual keys allowed", fileObj("basename", "out.txt"), fileObj("location", uri, "basename", "out.txt", "nameroot", "out"), ""},
		{"format compared", fileObj("format", "http://edamontology.org/format_2330"), fileObj("location", uri), "$.format"},
		{"secondaryFiles recursively", fileObj("secondaryFiles", []any{fileObj("location", "out.txt", "size", int64(6))}),
			fileObj("location", uri, "secondaryFiles", []any{fileObj("location", uri)}), ""},
		{"secondaryFiles mismatch inside", fileObj("secondaryFiles", []any{fileObj("size", int64(5))}),
			fileObj("location", uri, "secondaryFiles", []any{fileObj("location", uri)}), "$.secondaryFiles[0].size"},
	})
}

func dirObj(kv ...any) map[string]any { return obj(append([]any{"class", "Directory"}, kv...)...) }

func TestCompareDirectory(t *testing.T) {
	dir := t.TempDir()
	a := writeHello(t, dir, "d/a.txt")
	b := writeHello(t, dir, "d/b.txt")
	d := "file://" + filepath.Join(dir, "d")
	actual := dirObj("location", d+"/", "basename", "d", "listing", []any{
		fileObj("location", "file://"+a, "basename", "a.txt"),
		fileObj("location", "file://"+b, "basename", "b.txt"),
	})
	runCompareCases(t, []compareCase{
		{"any order", dirObj("location", "d", "listing", []any{fileObj("basename", "b.txt"), fileObj("basename", "a.txt")}), actual, ""},
		{"extras allowed", dirObj("listing", []any{fileObj("location", "b.txt", "checksum", helloSHA1)}), actual, ""},
		{"empty expected listing", dirObj("listing", []any{}), actual, ""},
		{"missing entry", dirObj("listing", []any{fileObj("basename", "c.txt")}), actual, "$.listing"},
		{"entry details matter", dirObj("listing", []any{fileObj("location", "a.txt", "size", int64(1))}), actual, "$.listing"},
		{"actual needs a listing", dirObj("listing", []any{}), dirObj("location", d), "$"},
		{"actual must be a Directory", dirObj("listing", []any{}), fileObj("location", "file://"+a, "listing", []any{}), "$.class"},
		{"location suffix", dirObj("location", "x", "listing", []any{}), actual, "$.location"},
		{"directory must exist", dirObj("location", "Any", "listing", []any{}), dirObj("location", d+"-gone", "listing", []any{}), "$.location"},
		{"other keys", dirObj("basename", "e", "listing", []any{}), actual, "$.basename"},
		{"no size check on directories", dirObj("size", int64(1), "listing", []any{}), dirObj("location", d, "listing", []any{}), ""},
	})
}

// TestCompareLeavesInputsAlone guards against cwltest's habit of editing the
// actual object (it copies location into path) leaking into ours.
func TestCompareLeavesInputsAlone(t *testing.T) {
	dir := t.TempDir()
	p := writeHello(t, dir, "d/out.txt")
	expected := obj("f", fileObj("path", "out.txt"), "d", dirObj("location", "d", "listing", []any{}))
	actual := obj("f", fileObj("location", "file://"+p), "d", dirObj("location", "file://"+filepath.Dir(p)+"/", "listing", []any{}))
	before, _ := json.Marshal(actual)
	if err := Compare(expected, actual); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(actual)
	if string(before) != string(after) {
		t.Fatalf("Compare changed its input:\n%s\n%s", before, after)
	}
}

func TestMismatchMessage(t *testing.T) {
	err := Compare(obj("out", obj("n", int64(1))), obj("out", obj("n", int64(2))))
	want := "$.out.n: expected 1, got 2"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// FuzzCompare feeds arbitrary JSON to Compare: it must never panic, and a
// value without File or Directory objects must always match itself.
func FuzzCompare(f *testing.F) {
	f.Add(`{"a": [1, 2.5, "Any", null]}`, `{"a": [1, 2.5, "x", null], "b": null}`)
	f.Add(`{"class": "File", "location": "x", "checksum": "sha1$00", "size": 1}`, `{"class": "File", "location": "file:///nonexistent/x"}`)
	f.Add(`{"class": "Directory", "listing": [{"class": "File"}]}`, `{"class": "Directory", "listing": "oops"}`)
	f.Add(`{"class": "File", "path": 3, "contents": 5}`, `{"class": "File", "path": null, "location": {}}`)
	f.Add(`[{"class": "Directory", "location": "/"}]`, `[{"class": "Directory", "location": "/", "listing": [1]}]`)
	f.Fuzz(func(t *testing.T, exp, act string) {
		e, err1 := decodeJSON(exp)
		a, err2 := decodeJSON(act)
		if err1 != nil || err2 != nil {
			return
		}
		_ = Compare(e, a)
		if !hasClass(e) {
			if err := Compare(e, e); err != nil {
				t.Fatalf("a value does not match itself: %v", err)
			}
		}
	})
}

func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func hasClass(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["class"]; ok {
			return true
		}
		for _, e := range x {
			if hasClass(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasClass(e) {
				return true
			}
		}
	}
	return false
}

func TestNormalize(t *testing.T) {
	in := map[any]any{"i": 1, "u": uint64(1 << 63), "n": json.Number("12345678901234567"), "f": json.Number("1.5"), "l": []any{int32(2)}}
	want := map[string]any{"i": int64(1), "u": float64(1 << 63), "n": int64(12345678901234567), "f": 1.5, "l": []any{int64(2)}}
	if got := normalize(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}
