package digest

import (
	"context"
	"encoding/binary"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Identity names one state of a file: which file (device and inode) and
// what was last done to it (size, modification and change times in
// nanoseconds). A write changes the change time whatever the writer does
// to the others afterwards, so two equal identities hold the same bytes.
type Identity struct {
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // Unix nanoseconds
}

// IdentityOf reads the identity from a file's status; false when the
// system does not report one (not Linux, or not a regular file).
func IdentityOf(st fs.FileInfo) (Identity, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || !st.Mode().IsRegular() {
		return Identity{}, false
	}
	return Identity{
		Dev: uint64(sys.Dev), Ino: sys.Ino, Size: st.Size(),
		Mtime: time.Unix(sys.Mtim.Unix()).UnixNano(),
		Ctime: time.Unix(sys.Ctim.Unix()).UnixNano(),
	}, true
}

// Key is the identity as 40 bytes, big-endian, for a key-value store.
func (id Identity) Key() []byte {
	b := make([]byte, 0, 40)
	b = binary.BigEndian.AppendUint64(b, id.Dev)
	b = binary.BigEndian.AppendUint64(b, id.Ino)
	b = binary.BigEndian.AppendUint64(b, uint64(id.Size))
	b = binary.BigEndian.AppendUint64(b, uint64(id.Mtime))
	return binary.BigEndian.AppendUint64(b, uint64(id.Ctime))
}

// Store keeps checksums by identity key beyond one process.
type Store interface {
	// LoadSum returns the checksum stored under key, or "" if none is.
	LoadSum(ctx context.Context, key []byte) (string, error)
	// StoreSum stores a checksum under key.
	StoreSum(ctx context.Context, key []byte, sum string) error
}

// StoredFrom is the least size of a file whose checksum a Memo keeps in
// its Store: smaller files cost less to hash again than to look up.
const StoredFrom = 1 << 20

// Memo remembers checksums by file identity. The zero Memo remembers in
// memory only; with a Store, checksums of files of StoredFrom bytes or
// more are kept there too. Safe for concurrent use.
type Memo struct {
	Store Store

	mu      sync.Mutex
	sums    map[Identity]string
	reading map[Identity]*reading // files being hashed now, by whom asked first
}

// reading is one hash in progress, which later askers wait for.
type reading struct {
	done chan struct{}
	sum  string
	n    int64
	err  error
}

// Sum returns the checksum and size of the regular file at path, reading
// it only when no checksum is known for its identity.
//
// A checksum is remembered only when the file's last change lies clearly
// before the read began (by more than the clock's tick, which file times
// are taken from): a write in the same tick as the change seen would
// leave the times as they were (git calls such an entry racily clean).
// A big file changed that recently waits out the tick before it is read,
// so that its checksum can be remembered; a small one is read at once and
// not remembered.
func (m *Memo) Sum(ctx context.Context, path string) (string, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", 0, err
	}
	id, ok := IdentityOf(st)
	if !ok {
		return File(ctx, path) // says why it cannot be hashed, or hashes it
	}
	if sum := m.known(ctx, id); sum != "" {
		return sum, id.Size, nil
	}
	// Two steps that start together over one input read it once.
	m.mu.Lock()
	if r, ok := m.reading[id]; ok {
		m.mu.Unlock()
		select {
		case <-r.done:
			return r.sum, r.n, r.err
		case <-ctx.Done():
			return "", 0, ctx.Err()
		}
	}
	if m.reading == nil {
		m.reading = map[Identity]*reading{}
	}
	r := &reading{done: make(chan struct{})}
	m.reading[id] = r
	m.mu.Unlock()
	r.sum, r.n, r.err = m.read(ctx, path, id)
	m.mu.Lock()
	delete(m.reading, id)
	m.mu.Unlock()
	close(r.done)
	return r.sum, r.n, r.err
}

// read hashes the file at path, last seen with identity id, and
// remembers its checksum if the file did not change meanwhile.
func (m *Memo) read(ctx context.Context, path string, id Identity) (string, int64, error) {
	if id.Size >= StoredFrom {
		if err := waitPastTick(ctx, id); err != nil {
			return "", 0, err
		}
	}
	f, fst, err := openRegular(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	before, _ := IdentityOf(fst)
	began := time.Now()
	sum, n, err := Reader(ctx, f)
	if err != nil {
		return "", 0, err
	}
	if after, err := f.Stat(); err == nil {
		if aid, ok := IdentityOf(after); ok && aid == before && settled(before, began) {
			m.remember(ctx, before, sum)
		}
	}
	return sum, n, nil
}

// Wrote remembers the checksum of a file the caller has just written,
// sum being that of the bytes it wrote. It is for files flow made itself,
// under a name it chose and created exclusively, which nothing else
// writes: their last change is the caller's own, so their identity cannot
// hide another write in the same tick.
func (m *Memo) Wrote(ctx context.Context, path, sum string) {
	st, err := os.Stat(path)
	if err != nil || st.Size() < StoredFrom {
		return // a small copy is cheaper to read again than to remember
	}
	if id, ok := IdentityOf(st); ok {
		m.remember(ctx, id, sum)
	}
}

// Known returns the checksum remembered for the file at path as it is
// now, or "" without reading it.
func (m *Memo) Known(ctx context.Context, path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	id, ok := IdentityOf(st)
	if !ok {
		return ""
	}
	return m.known(ctx, id)
}

func (m *Memo) known(ctx context.Context, id Identity) string {
	m.mu.Lock()
	sum := m.sums[id]
	m.mu.Unlock()
	if sum != "" || m.Store == nil || id.Size < StoredFrom {
		return sum
	}
	sum, err := m.Store.LoadSum(ctx, id.Key())
	if err != nil || sum == "" {
		return ""
	}
	m.mu.Lock()
	if m.sums == nil {
		m.sums = map[Identity]string{}
	}
	m.sums[id] = sum
	m.mu.Unlock()
	return sum
}

func (m *Memo) remember(ctx context.Context, id Identity, sum string) {
	m.mu.Lock()
	if m.sums == nil {
		m.sums = map[Identity]string{}
	}
	m.sums[id] = sum
	m.mu.Unlock()
	if m.Store != nil && id.Size >= StoredFrom {
		// Losing it costs one more read of the file some day, no more.
		_ = m.Store.StoreSum(context.WithoutCancel(ctx), id.Key(), sum)
	}
}

// tick is the resolution of the clock the kernel stamps files with.
var tick = sync.OnceValue(func() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGetres(unix.CLOCK_REALTIME_COARSE, &ts); err != nil || ts.Nano() <= 0 {
		return 10 * time.Millisecond
	}
	return time.Duration(ts.Nano())
})

// settled reports whether a file last changed at id's times can no longer
// change without new times: the read that began at began started more
// than a tick after them.
func settled(id Identity, began time.Time) bool {
	last := max(id.Mtime, id.Ctime)
	return began.UnixNano()-last > int64(tick())
}

// waitPastTick waits until a tick has passed since the file last changed.
func waitPastTick(ctx context.Context, id Identity) error {
	last := time.Unix(0, max(id.Mtime, id.Ctime))
	wait := time.Until(last.Add(tick() + time.Millisecond))
	if wait <= 0 || wait > tick()+time.Millisecond {
		return nil // settled, or stamped in the future: not worth a wait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
