package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// damagedDB writes data as flowd.db in a new directory and opens it.
func openBytes(t *testing.T, data []byte, o Options) (*Store, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "flowd.db"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := OpenWith(dir, o)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// goodDB is a database of a few hundred KiB: tokens, runs, events.
func goodDB(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, _, err := s.CreateToken(fmt.Sprint("team", i), RoleAdmin, "t"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		r := newRun(t, s, fmt.Sprint("team", i%3), StateQueued)
		for j := range 20 {
			if err := s.AppendEvent(&Event{Team: r.Team, RunID: r.ID, Kind: EventLog, Data: []byte(fmt.Sprintf("%q", strings.Repeat("line ", j*10)))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "flowd.db"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A truncated or corrupt database is refused with ErrDamaged, in one line,
// and never panics or faults: damage of any one page, of the headers,
// or a cut anywhere.
func TestOpenRefusesADamagedDatabase(t *testing.T) {
	good := goodDB(t)
	m, ok := metaOf(t, good)
	if !ok {
		t.Fatal("the intact database has no valid header")
	}
	page, pages := int(m.pageSize), int(m.pgid) // pages in use; the file is larger
	t.Logf("a database of %d pages in use, %d bytes", pages, len(good))
	if _, err := openBytes(t, good, Options{}); err != nil {
		t.Fatalf("the intact database: %v", err)
	}
	refused := func(what string, data []byte) {
		t.Helper()
		_, err := openBytes(t, data, Options{})
		if !errors.Is(err, ErrDamaged) {
			t.Errorf("%s: %v, want ErrDamaged", what, err)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: the error is more than one line: %q", what, err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	for _, n := range []int{100, page, 2 * page, 3 * page, pages * page / 2, (pages - 1) * page} {
		refused(fmt.Sprintf("cut to %d bytes", n), good[:n])
	}
	refused("both headers zeroed", append(make([]byte, 2*page), good[2*page:]...))
	refused("both headers garbage", append(garbage(2*page), good[2*page:]...))
	refused("every page after the headers garbage", append(append([]byte{}, good[:2*page]...), garbage(len(good)-2*page)...))
	// One page garbled at a time: the page may be free, and the database
	// still good; but either it opens or it is refused as damaged.
	damaged := 0
	for p := 2; p < pages; p += max(1, pages/150) {
		data := append([]byte{}, good...)
		copy(data[p*page:], garbage(page))
		s, err := openBytes(t, data, Options{})
		switch {
		case err == nil:
			s.Close()
		case errors.Is(err, ErrDamaged):
			damaged++
		default:
			t.Errorf("page %d garbled: %v, want ErrDamaged or none", p, err)
		}
	}
	t.Logf("%d garbled pages were found", damaged)
	if damaged == 0 {
		t.Error("no garbled page was found")
	}
}

// An empty flowd.db is refused unless Init says to make a new database;
// a missing one is simply created.
func TestOpenRefusesAnEmptyFileUnlessInit(t *testing.T) {
	if _, err := openBytes(t, nil, Options{}); !errors.Is(err, ErrEmptyFile) || strings.Contains(err.Error(), "\n") {
		t.Errorf("an empty flowd.db: %v, want ErrEmptyFile", err)
	}
	s, err := openBytes(t, nil, Options{Init: true})
	if err != nil {
		t.Fatalf("an empty flowd.db with Init: %v", err)
	}
	if _, _, err := s.CreateToken("lab", RoleAdmin, ""); err != nil {
		t.Error(err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "new")); err != nil {
		t.Errorf("a new data directory: %v", err)
	}
}

// metaOf reads the header of a database in memory.
func metaOf(t *testing.T, data []byte) (boltMeta, bool) {
	path := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return readMeta(f, 0)
}
