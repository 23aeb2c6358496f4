package staging

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/internal/shell"
)

// plan gathers what one task's mounts need on the remote side: files are
// uploaded into the store as they are found; directories, links and
// copies become one script, run once.
type plan struct {
	remote Remote
	store  string
	script strings.Builder
	stored map[string]string // local file → its path in the store, staged by this plan
}

// stage puts the local file in the store once per plan: the tasks of a
// scatter usually share inputs, and each would otherwise ask the cluster
// whether the file is there.
func (p *plan) stage(ctx context.Context, local string) (string, error) {
	if r, ok := p.stored[local]; ok {
		return r, nil
	}
	r, err := p.remote.StageFile(ctx, local, p.store)
	if err != nil {
		return "", err
	}
	if p.stored == nil {
		p.stored = map[string]string{}
	}
	p.stored[local] = r
	p.line("chmod a-w --", r)
	return r, nil
}

// maxLinkDepth bounds how deep symlinked directories are followed, so a
// link loop in an input directory ends.
const maxLinkDepth = 8

// add stages one mount: a read-only one appears at its target as hard
// links into the store (a copy where the store is on another file
// system); a writable one (a job directory) gets a fresh remote directory
// holding a copy of what is in it locally.
//
// Hard links rather than symlinks, because tools copy directories with
// `cp -r`, which keeps symlinks: the copies would point into the store,
// not be files. Stored files are made read-only, so that a tool cannot
// change the store through a link.
func (p *plan) add(ctx context.Context, m executors.Mount) error {
	if !path.IsAbs(m.Target) {
		return fmt.Errorf("the mount target %q is not an absolute path", m.Target)
	}
	fi, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("cannot stage %s: %w", m.Source, err)
	}
	if m.Writable {
		if !fi.IsDir() {
			return fmt.Errorf("the writable mount %s is not a directory", m.Source)
		}
		p.line("rm -rf --", m.Target)
		p.line("mkdir -p --", m.Target)
		return p.copyDir(ctx, m.Source, m.Target)
	}
	return p.linkTree(ctx, m.Source, m.Target, fi, 0)
}

// linkTree makes target a link to src's content in the store, or, for a
// directory, a directory of such links.
func (p *plan) linkTree(ctx context.Context, src, target string, fi fs.FileInfo, depth int) error {
	if !fi.IsDir() {
		stored, err := p.stage(ctx, src)
		if err != nil {
			return err
		}
		// Jobs running at once may stage the same input at the same
		// target: each makes its link under a name of its own and renames
		// it into place, so a running job never sees the target missing.
		tmp := target + ".flow-" + strconv.FormatUint(rand.Uint64(), 36)
		p.line("mkdir -p --", path.Dir(target))
		// A target already linked to the stored file is left alone (mv
		// refuses to rename one link of a file onto another).
		s, tm, tg := shell.Quote(stored), shell.Quote(tmp), shell.Quote(target)
		fmt.Fprintf(&p.script, "if ! [ %[3]s -ef %[1]s ]; then\n"+
			"\tln -- %[1]s %[2]s 2>/dev/null || cp -- %[1]s %[2]s\n"+
			"\tmv -fT -- %[2]s %[3]s 2>/dev/null || { rm -f -- %[2]s; [ %[3]s -ef %[1]s ]; }\n"+
			"fi\n", s, tm, tg)
		return nil
	}
	if depth > maxLinkDepth {
		return fmt.Errorf("cannot stage %s: directories nest more than %d links deep", src, maxLinkDepth)
	}
	if err := ctx.Err(); err != nil { // a large tree is walked no further once the run stops
		return err
	}
	p.line("mkdir -p --", target)
	ents, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("cannot stage %s: %w", src, err)
	}
	for _, e := range ents {
		child := filepath.Join(src, e.Name())
		cfi, err := os.Stat(child) // follows links: the command sees content
		if err != nil {
			return fmt.Errorf("cannot stage %s: %w", child, err)
		}
		if err := p.linkTree(ctx, child, path.Join(target, e.Name()), cfi, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// copyDir copies the tree at src into the remote directory target: files
// through the store (so a big staged input crosses the network once),
// symlinks as they are (the engine wrote them with paths as the command
// sees them).
func (p *plan) copyDir(ctx context.Context, src, target string) error {
	return filepath.WalkDir(src, func(local string, d fs.DirEntry, err error) error {
		if err != nil || local == src {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, local)
		dst := path.Join(target, filepath.ToSlash(rel))
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(local)
			if err != nil {
				return err
			}
			p.line("ln -sfn --", link, dst)
		case d.IsDir():
			p.line("mkdir -p --", dst)
		case d.Type().IsRegular():
			stored, err := p.stage(ctx, local)
			if err != nil {
				return err
			}
			p.line("cp --", stored, dst)
			p.line("chmod u+w --", dst)
		}
		return nil
	})
}

// line adds a command whose words are all quoted.
func (p *plan) line(cmd string, words ...string) {
	p.script.WriteString(cmd)
	for _, w := range words {
		p.script.WriteString(" " + shell.Quote(w))
	}
	p.script.WriteString("\n")
}

func (p *plan) run(ctx context.Context) error {
	if p.script.Len() == 0 {
		return nil
	}
	return retry(ctx, p.remote, func() error {
		_, err := p.remote.Run(ctx, "set -e\n"+p.script.String())
		return err
	})
}

// retrier is a Remote that can repeat a call that the connection's drop
// interrupted (internal/remote.Client.Retry).
type retrier interface {
	Retry(ctx context.Context, fn func() error) error
}

// retry runs fn, repeating it after a dropped connection when the Remote
// can tell. Only for scripts that are safe to run twice: staging's are
// (they make directories and links, and copy into fresh ones).
func retry(ctx context.Context, r Remote, fn func() error) error {
	if rr, ok := r.(retrier); ok {
		return rr.Retry(ctx, fn)
	}
	return fn()
}
