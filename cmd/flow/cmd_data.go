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

	"github.com/flow-cwl/flow/api"
	"github.com/flow-cwl/flow/internal/logging"
	"github.com/flow-cwl/flow/storage"
)

const dataUsage = `usage: flow data copy URL --to DIR [--cluster NAME] [--compute-config FILE] [--compute_url URL]
       flow data copies [--compute_url URL]
       flow data cancel ID [--compute_url URL]

Copies an S3 object or prefix (s3://bucket/key, s3://bucket/prefix/) or an
HTTPS file to DIR, on this machine or, with --cluster, on the cluster over
SFTP. The data goes through flow's download cache, so a second copy of the
same object downloads nothing.

With --compute_url (or $FLOW_URL), the flowd daemon there makes the copy, to
one of its clusters, with the team's S3 credentials and SSH key, as a task
it tracks; flow follows its progress to the end. "flow data copies" lists
the team's copies, "flow data cancel ID" stops one.

flags:
`

// cmdData is "flow data copy", "flow data copies" and "flow data cancel".
func cmdData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "copy" && args[0] != "copies" && args[0] != "cancel") {
		fmt.Fprint(stderr, dataUsage)
		return usagef("flow data takes the command copy, copies or cancel")
	}
	fs := flag.NewFlagSet("flow data "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, dataUsage); fs.PrintDefaults() }
	to := fs.String("to", "", "the `directory` the object goes into (on the cluster with --cluster)")
	cluster := fs.String("cluster", "", "copy to this cluster of the compute configuration, over SFTP")
	config := fs.String("compute-config", "", "the compute configuration `file` (default: clusters.yaml)")
	db := fs.String("db", "", "the provenance database `file` beside which the download cache is")
	asJSON := fs.Bool("json", false, "print where the data went, and its size, as a JSON object")
	computeURL := fs.String("compute_url", "", "have the flowd daemon at `url` make the copy (default $FLOW_URL)")
	token := fs.String("compute_access_token", "", "the daemon's `token` (default $FLOW_TOKEN)")
	var lo logging.Options
	addLogFlags(fs, &lo)
	flowArgs, positional, extra := splitArgs(fs, args[1:])
	if err := fs.Parse(flowArgs); err != nil {
		return parseError(err)
	}
	log := logging.New(stderr, lo)
	daemon := *computeURL != "" || os.Getenv("FLOW_URL") != ""
	switch {
	case args[0] == "copies" && len(positional) == 0 && daemon:
		return listDataCopies(ctx, *computeURL, *token, stdout)
	case args[0] == "cancel" && len(positional) == 1 && daemon:
		return cancelDataCopy(ctx, *computeURL, *token, positional[0])
	case args[0] != "copy":
		fs.Usage()
		return usagef("flow data %s asks a daemon: --compute_url URL or FLOW_URL, and %s", args[0], map[string]string{"copies": "no arguments", "cancel": "one copy ID"}[args[0]])
	}
	if len(positional) != 1 || len(extra) > 0 || *to == "" {
		fs.Usage()
		return usagef("flow data copy takes one URL and --to DIR")
	}
	src := positional[0]
	if !storage.Remote(src) {
		return usagef("%s is not an s3:// or https:// URL", src)
	}
	var res copyResult
	var err error
	if daemon {
		if *cluster == "" {
			return usagef("a daemon copies to one of its clusters: --cluster NAME")
		}
		res, err = copyByDaemon(ctx, *computeURL, *token, api.DataCopyRequest{Source: src, Cluster: *cluster, To: *to}, log)
	} else {
		res, err = copyHere(ctx, src, *to, *cluster, *config, *db, log)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, res)
	}
	fmt.Fprintln(stdout, res.Destination)
	return nil
}

// copyResult is what a copy printed with --json: where the data is and
// how many bytes it holds.
type copyResult struct {
	Destination string `json:"destination"`
	Bytes       int64  `json:"bytes"`
}

// copyHere makes the copy in this process.
func copyHere(ctx context.Context, src, to, cluster, config, db string, log zerolog.Logger) (copyResult, error) {
	c, err := openDownloads(db, log)
	if err != nil {
		return copyResult{}, err
	}
	log.Info().Str("copy", redactURL(src)).Msg("copy started")
	local, err := fetchAny(ctx, c, src)
	if err != nil {
		return copyResult{}, fmt.Errorf("%s: %w", redactURL(src), err)
	}
	dst := path.Join(to, filepath.Base(local))
	var size int64
	err = putEach(ctx, local, "", func(from, _ string) error {
		fi, err := os.Stat(from)
		if err == nil {
			size += fi.Size()
		}
		return err
	})
	if err != nil {
		return copyResult{}, err
	}
	if cluster == "" {
		err = putEach(ctx, local, filepath.FromSlash(dst), func(from, to string) error { return copyCached(from, to) })
	} else {
		err = uploadToCluster(ctx, config, cluster, local, dst, log)
	}
	return copyResult{Destination: dst, Bytes: size}, err
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
