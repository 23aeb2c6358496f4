package digest

import (
	"context"
	"os"
)

// Rename renames the file at oldpath to newpath and carries the checksum
// the memo knows for it over to its new identity. A rename changes a
// file's change time and nothing else of it, but the memo cannot tell
// that change from a write: without Rename, an output moved into place
// would be read again the next time it is asked about.
//
// The checksum is carried only when the file was known just before the
// rename and is, just after it, the same file with the same size and
// modification time. What Rename cannot see is a write within the clock
// tick of the rename by a writer that then set the modification time
// back: the change time would be the rename's. It is for files flow made,
// moved once the jobs that made them have ended, as Wrote is.
func (m *Memo) Rename(ctx context.Context, oldpath, newpath string) error {
	var before Identity
	known := ""
	if st, err := os.Lstat(oldpath); err == nil {
		if id, ok := IdentityOf(st); ok {
			before, known = id, m.known(ctx, id)
		}
	}
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	if known == "" {
		return nil
	}
	st, err := os.Lstat(newpath)
	if err != nil {
		return nil
	}
	after, ok := IdentityOf(st)
	m.forget(before) // no file has that identity any more
	if ok && after.Dev == before.Dev && after.Ino == before.Ino && after.Size == before.Size && after.Mtime == before.Mtime {
		m.remember(ctx, after, known)
	}
	return nil
}

// forget drops what the memo holds in memory for id (a 100,000-way
// scatter's outputs, moved into --outdir, would otherwise be remembered
// twice). The Store keeps its entry: it costs disk, not memory.
func (m *Memo) forget(id Identity) {
	m.mu.Lock()
	delete(m.sums, id)
	m.mu.Unlock()
}
