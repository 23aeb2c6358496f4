package confine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRootsJudgeWherePathsLead(t *testing.T) {
	allowed, elsewhere := t.TempDir(), t.TempDir()
	secret := filepath.Join(elsewhere, "secret.txt")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ name, target string }{
		{"to-secret", secret},
		{"to-elsewhere", elsewhere},
		{"to-self", filepath.Join(allowed, "in.txt")},
	} {
		if err := os.Symlink(l.target, filepath.Join(allowed, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(allowed, "in.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := New(allowed)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		allowed:                                   true,
		filepath.Join(allowed, "in.txt"):          true,
		filepath.Join(allowed, "to-self"):         true,
		filepath.Join(allowed, "not-yet.txt"):     true, // judged by its parent
		filepath.Join(allowed, "new", "dir", "f"): true,
		secret:                              false,
		allowed + "-sibling":                false, // a prefix is not a parent
		filepath.Join(allowed, "to-secret"): false,
		filepath.Join(allowed, "to-elsewhere", "secret.txt"):               false,
		filepath.Join(allowed, "to-elsewhere", "not-yet.txt"):              false,
		filepath.Join(allowed, "..", filepath.Base(elsewhere)):             false,
		filepath.Join(allowed, "missing", "..", "..", "x"):                 false,
		allowed + "/to-elsewhere/../" + filepath.Base(allowed) + "/in.txt": true, // ".." after the symlink, as the kernel does
		"/etc/shadow": false,
	} {
		if got := r.Contains(p); got != want {
			t.Errorf("Contains(%s) = %v, want %v", p, got, want)
		}
	}
	if err := r.Check(secret); !errors.Is(err, ErrOutside) {
		t.Errorf("Check of an outside file: %v", err)
	}
	for loc, want := range map[string]error{
		"in.txt":                            nil,
		"file://" + allowed + "/in.txt":     nil,
		"../" + filepath.Base(elsewhere):    ErrOutside,
		"file://" + secret:                  ErrOutside,
		"http://example.org/data.txt":       ErrOutside,
		"file://otherhost" + allowed + "/x": ErrOutside,
	} {
		if err := r.CheckLocation(loc, allowed); !errors.Is(err, want) {
			t.Errorf("CheckLocation(%s) = %v, want %v", loc, err, want)
		}
	}
}
