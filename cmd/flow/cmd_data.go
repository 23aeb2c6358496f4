package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/internal/logging"
	"github.com/flow-cwl/flow/storage"
)

const dataUsage = `usage: flow data copy URL --to DIR [--cluster NAME] [--compute-config FILE]

Copies an S3 object or prefix (s3://bucket/key, s3://bucket/prefix/) or an
HTTPS file to DIR, on this machine or, with --cluster, on the cluster over
SFTP. The data goes through flow's download cache, so a second copy of the
same object downloads nothing.

flags:
`

// cmdData is "flow data copy".
func cmdData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "copy" {
		fmt.Fprint(stderr, dataUsage)
		return usagef("flow data takes the command copy")
	}
	fs := flag.NewFlagSet("flow data copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, dataUsage); fs.PrintDefaults() }
	to := fs.String("to", "", "the `directory` the object goes into (on the cluster with --cluster)")
	cluster := fs.String("cluster", "", "copy to this cluster of the compute configuration, over SFTP")
	config := fs.String("compute-config", "", "the compute configuration `file` (default: clusters.yaml)")
	db := fs.String("db", "", "the provenance database `file` beside which the download cache is")
	var lo logging.Options
	addLogFlags(fs, &lo)
	flowArgs, positional, extra := splitArgs(fs, args[1:])
	if err := fs.Parse(flowArgs); err != nil {
		return parseError(err)
	}
	if len(positional) != 1 || len(extra) > 0 || *to == "" {
		fs.Usage()
		return usagef("flow data copy takes one URL and --to DIR")
	}
	src := positional[0]
	if !storage.Remote(src) {
		return usagef("%s is not an s3:// or https:// URL", src)
	}
	log := logging.New(stderr, lo)
	c, err := openDownloads(*db, log)
	if err != nil {
		return err
	}
	local, err := fetchAny(ctx, c, src)
	if err != nil {
		return fmt.Errorf("%s: %w", redactURL(src), err)
	}
	dst := path.Join(*to, filepath.Base(local))
	if *cluster == "" {
		err = putEach(ctx, local, filepath.FromSlash(dst), func(from, to string) error { return copyCached(from, to) })
	} else {
		err = uploadToCluster(ctx, *config, *cluster, local, dst, log)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, dst)
	return nil
}

// fetchAny fetches src as a File, or, if it names a prefix, as a Directory.
func fetchAny(ctx context.Context, c *storage.Cache, src string) (string, error) {
	if src[len(src)-1] != '/' {
		p, err := c.FetchFile(ctx, src)
		if err == nil || !errors.Is(err, storage.ErrNotFound) {
			return p, err
		}
	}
	return c.FetchDir(ctx, src)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that cannot be read)"
	}
	return storage.Redact(u)
}

// uploadToCluster puts the file or tree local at dst on the cluster.
func uploadToCluster(ctx context.Context, config, name, local, dst string, log zerolog.Logger) error {
	c, _, err := loadCluster(config, name)
	if err != nil {
		return err
	}
	_, cl, done, err := clusterRunner(ctx, c, log)
	if err != nil {
		return err
	}
	defer done()
	if cl == nil { // a login node: the cluster's files are this machine's
		return putEach(ctx, local, filepath.FromSlash(dst), func(from, to string) error { return copyCached(from, to) })
	}
	return putEach(ctx, local, dst, func(from, to string) error {
		log.Info().Str("to", to).Str("cluster", name).Msg("uploading")
		return cl.Upload(ctx, from, to)
	})
}

// putEach calls put for the file src, or for every regular file under
// the directory src, with its destination under dst.
func putEach(ctx context.Context, src, dst string, put func(from, to string) error) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		return put(p, path.Join(filepath.ToSlash(dst), filepath.ToSlash(rel)))
	})
}

// copyCached copies a file of the download cache to a new local path,
// under a temporary name first.
func copyCached(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := to + ".part"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, to)
}
