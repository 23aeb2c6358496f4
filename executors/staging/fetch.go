package staging

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/internal/shell"
)

// entry is one thing in a remote directory, as find prints it.
type entry struct {
	kind byte   // 'f' file, 'd' directory, 'l' symlink
	rel  string // path below the directory
	link string // a symlink's target
}

// listScript prints every entry below dir as three NUL-terminated fields:
// its type, its relative path and its link target (empty unless a link).
// NULs, unlike newlines, cannot occur in names.
func listScript(dir string) string {
	return "cd -- " + shell.Quote(dir) + " && find . -mindepth 1 -printf '%y\\0%P\\0%l\\0'\n"
}

func parseList(out []byte) ([]entry, error) {
	f := bytes.Split(out, []byte{0})
	if len(f) > 0 && len(f[len(f)-1]) == 0 {
		f = f[:len(f)-1]
	}
	if len(f)%3 != 0 {
		return nil, fmt.Errorf("find printed %d fields, not triples", len(f))
	}
	var ents []entry
	for i := 0; i < len(f); i += 3 {
		if len(f[i]) != 1 {
			return nil, fmt.Errorf("find printed an unexpected type %q", f[i])
		}
		rel := string(f[i+1])
		if rel == "" || path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") || strings.Contains(rel, "/../") {
			return nil, fmt.Errorf("find printed an unexpected path %q", rel)
		}
		ents = append(ents, entry{kind: f[i][0], rel: rel, link: string(f[i+2])})
	}
	return ents, nil
}

// fetch brings the remote output directory back into the local one:
// directories and symlinks as they are, files by download. Find lists
// parents before children, so each directory exists before its entries.
func (s *stager) fetch(ctx context.Context, st state) error {
	out, err := s.scripts.Run(ctx, listScript(st.Outdir))
	if err != nil {
		return err
	}
	ents, err := parseList(out)
	if err != nil {
		return err
	}
	for _, e := range ents {
		local := filepath.Join(st.Local, filepath.FromSlash(e.rel))
		switch e.kind {
		case 'd':
			err = os.MkdirAll(local, 0o755)
		case 'l':
			err = replaceWithLink(e.link, local)
		case 'f':
			err = s.remote.Download(ctx, path.Join(st.Outdir, e.rel), local)
		}
		if err != nil {
			return err
		}
	}
	s.opts.Log.Debug().Str("dir", st.Outdir).Int("entries", len(ents)).Msg("outputs brought back")
	return nil
}

func replaceWithLink(target, local string) error {
	if err := os.Remove(local); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.Symlink(target, local)
}

// cleanup removes the task's remote directories; a failure only costs
// remote disk space, so it is logged, not returned.
func (s *stager) cleanup(ctx context.Context, st state) {
	if len(st.Remove) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("rm -rf --")
	for _, d := range st.Remove {
		b.WriteString(" " + shell.Quote(d))
	}
	if _, err := s.scripts.Run(ctx, b.String()+"\n"); err != nil {
		s.opts.Log.Warn().Err(err).Msg("cannot remove a job's remote directories")
	}
}
