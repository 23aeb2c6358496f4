package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// A damaged database must stop flowd before it serves anything, with one
// line that says so, never a crash mid-request: bbolt trusts the file, and
// may panic on a bad page, or fault on a page past the end of a truncated
// file (a fault is no panic: it kills the process). So the file's header is
// read here first, and then every bucket, key and value is walked once.

// ErrDamaged: the database file is truncated or corrupt.
var ErrDamaged = errors.New("the database is damaged")

// ErrEmptyFile: the database file exists but holds nothing, which a lost
// database looks like as much as a new one.
var ErrEmptyFile = errors.New("the database file is empty")

// bbolt's header: each of the first two pages holds, after a 16-byte page
// header, a meta record (all fields native-endian):
//
//	magic u32, version u32, pageSize u32, flags u32, root u64, sequence u64,
//	freelist u64, pgid u64 (pages in use), txid u64, checksum u64 (FNV-64a
//	of the preceding 56 bytes)
const (
	boltPageHeader = 16
	boltMetaSize   = 64
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
)

type boltMeta struct {
	pageSize uint32
	pgid     uint64
	txid     uint64
}

// readMeta reads and checks the meta record at off; ok is false when it
// is not a valid one.
func readMeta(f *os.File, off int64) (m boltMeta, ok bool) {
	buf := make([]byte, boltPageHeader+boltMetaSize)
	if _, err := f.ReadAt(buf, off); err != nil {
		return m, false
	}
	b := buf[boltPageHeader:]
	ne := binary.NativeEndian
	h := fnv.New64a()
	h.Write(b[:56])
	if ne.Uint32(b[0:]) != boltMagic || ne.Uint32(b[4:]) != boltVersion || ne.Uint64(b[56:]) != h.Sum64() {
		return m, false
	}
	return boltMeta{pageSize: ne.Uint32(b[8:]), pgid: ne.Uint64(b[40:]), txid: ne.Uint64(b[48:])}, true
}

// checkFile refuses a database file that bbolt could not safely open: an
// empty one (unless init), one whose headers are both invalid, one
// shorter than its header says. A missing file is fine: Open creates it.
func checkFile(path string, init bool) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot open the flowd database %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot open the flowd database %s: %w", path, err)
	}
	if fi.Size() == 0 {
		if init {
			return nil // bbolt makes a new database in an empty file
		}
		return fmt.Errorf("%w: %s has 0 bytes, as a lost database would; restore it from a backup, or start flowd with --init to make a new one", ErrEmptyFile, path)
	}
	damaged := func(why string) error {
		return fmt.Errorf("%w: %s %s; restore it from a backup (or move it away to start afresh)", ErrDamaged, path, why)
	}
	m0, ok0 := readMeta(f, 0)
	pageSize := int64(os.Getpagesize())
	if ok0 {
		pageSize = int64(m0.pageSize)
	}
	m1, ok1 := readMeta(f, pageSize)
	var m boltMeta
	switch {
	case ok0 && ok1:
		m = m0
		if m1.txid > m0.txid {
			m = m1 // bbolt uses the newer of the two
		}
	case ok0:
		m = m0
	case ok1:
		m = m1
	default:
		return damaged("has no valid bbolt header (truncated, overwritten, or not a flowd database)")
	}
	if m.pageSize < 1024 || m.pageSize&(m.pageSize-1) != 0 {
		return damaged(fmt.Sprintf("has an invalid page size %d", m.pageSize))
	}
	if want := int64(m.pgid) * int64(m.pageSize); fi.Size() < want {
		return damaged(fmt.Sprintf("is truncated: %d bytes, where its header counts %d", fi.Size(), want))
	}
	return nil
}

// openChecked opens the database with bolt.Open and reads all of it once,
// turning bbolt's panics (and faults, on this goroutine) into ErrDamaged.
func openChecked(path string, opts *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s cannot be read (%v); restore it from a backup (or move it away to start afresh)", ErrDamaged, path, r)
			if db != nil {
				closeQuietly(db)
				db = nil
			}
		}
	}()
	db, err = bolt.Open(path, 0o600, opts)
	if err != nil {
		if errors.Is(err, bolt.ErrInvalid) || errors.Is(err, bolt.ErrChecksum) || errors.Is(err, bolt.ErrVersionMismatch) {
			err = fmt.Errorf("%w: %s: %w; restore it from a backup (or move it away to start afresh)", ErrDamaged, path, err)
		}
		return nil, err
	}
	if err := walk(db); err != nil {
		closeQuietly(db)
		return nil, fmt.Errorf("%w: %s: %w; restore it from a backup (or move it away to start afresh)", ErrDamaged, path, err)
	}
	return db, nil
}

// walk reads every bucket, key and value, and runs bbolt's own check
// (page accounting, key order), which is not much more: opening a database
// of a few hundred MiB takes well under a second.
func walk(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		var visit func(b *bolt.Bucket) error
		var sum int
		visit = func(b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil {
					if nb := b.Bucket(k); nb != nil {
						return visit(nb)
					}
				}
				for _, c := range v { // touch every byte: a page past the end faults here
					sum += int(c)
				}
				return nil
			})
		}
		err := tx.ForEach(func(name []byte, b *bolt.Bucket) error { return visit(b) })
		if err != nil {
			return err
		}
		_ = sum
		var first error
		for err := range tx.Check() { // read to the end: Check's goroutine uses tx until then
			if first == nil {
				first = err
			}
		}
		return first
	})
}

// closeQuietly closes a database found damaged; the damage is the error
// to report, and Close may itself trip on it.
func closeQuietly(db *bolt.DB) {
	defer func() { _ = recover() }()
	_ = db.Close()
}
