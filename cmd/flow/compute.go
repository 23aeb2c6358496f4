package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/slurm"
	"github.com/flow-cwl/flow/executors/staging"
	"github.com/flow-cwl/flow/internal/clusters"
	"github.com/flow-cwl/flow/internal/remote"
	"github.com/flow-cwl/flow/provenance"
)

// --run_compute: the same workflow on a Slurm cluster named in the compute
// configuration. The engine is the same; only the executor and the work
// directory change. Starts that come together are submitted as one job
// array. On a cluster whose workdir this machine mounts (shared_fs: true)
// jobs work in it directly; on one it does not, the inputs of each batch
// of jobs are staged over SFTP together before its one submission, and
// each job's outputs are brought back (executors/staging).

// computeTarget is the cluster a run uses, with what must be closed after.
type computeTarget struct {
	cluster  *clusters.Cluster
	executor executors.Executor
	close    func()
	// remoteRoot is where this machine's paths appear on the cluster
	// when it does not share them; "" when it does.
	remoteRoot string
	// config is the compute configuration file as it was read, recorded
	// with the run so that --resume finds it again.
	config *provenance.FileRef
	runner slurm.Runner // runs commands on the login side
}

// loadCluster reads the compute configuration and finds the cluster. It
// also returns the file's absolute path and checksum.
func loadCluster(file, name string) (*clusters.Cluster, *provenance.FileRef, error) {
	if file == "" {
		var err error
		if file, err = clusters.DefaultPath(); err != nil {
			return nil, nil, err
		}
	}
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	cfg, err := clusters.Load(file)
	if err != nil {
		return nil, nil, err
	}
	ref := configRef(file)
	if name == "" {
		if len(cfg.Clusters) != 1 {
			return nil, nil, fmt.Errorf("%s describes %d clusters; choose one with --cluster NAME", file, len(cfg.Clusters))
		}
		return &cfg.Clusters[0], ref, nil
	}
	c, err := cfg.Find(name)
	return c, ref, err
}

// configRef names the configuration file by content; nil if it cannot be
// read (Load just read it, so only a race makes that happen).
func configRef(file string) *provenance.FileRef {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	sum := sha1.Sum(data)
	return &provenance.FileRef{Path: file, SHA1: "sha1$" + hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

// resumeCluster points a resumed run at the cluster and the compute
// configuration it ran with, unless the command line names them. A
// configuration that is gone is an error saying so; one that changed
// since is used, with a warning (returned), and must still describe the
// cluster.
func resumeCluster(r *provenance.Run, o *runOptions) (warning string, err error) {
	name, ok := strings.CutPrefix(r.Executor, "slurm:")
	if !ok || o.Compute {
		return "", nil
	}
	o.Compute, o.Cluster = true, name
	if o.ComputeConfig != "" || r.ComputeConfig == nil {
		return "", nil
	}
	rec := r.ComputeConfig
	o.ComputeConfig = rec.Path
	data, err := os.ReadFile(rec.Path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("run %s ran on cluster %s as described in %s, which is gone; to resume it, pass --compute-config FILE describing that cluster", r.ID, name, rec.Path)
	}
	if err != nil {
		return "", fmt.Errorf("run %s ran on cluster %s as described in %s, which cannot be read now: %w", r.ID, name, rec.Path, err)
	}
	sum := sha1.Sum(data)
	if "sha1$"+hex.EncodeToString(sum[:]) != rec.SHA1 {
		cfg, err := clusters.Load(rec.Path)
		if err != nil {
			return "", fmt.Errorf("run %s ran on cluster %s; its compute configuration %s has changed since and no longer loads: %w", r.ID, name, rec.Path, err)
		}
		if _, err := cfg.Find(name); err != nil {
			return "", fmt.Errorf("run %s ran on cluster %s; its compute configuration %s has changed since and no longer describes that cluster", r.ID, name, rec.Path)
		}
		return fmt.Sprintf("the compute configuration %s has changed since run %s started; resuming on cluster %s as it describes it now", rec.Path, r.ID, name), nil
	}
	return "", nil
}

// openCompute connects to the cluster and builds its executor.
func openCompute(ctx context.Context, o runOptions, log zerolog.Logger) (*computeTarget, error) {
	c, ref, err := loadCluster(o.ComputeConfig, o.Cluster)
	if err != nil {
		return nil, err
	}
	runner, cl, closeRunner, err := clusterRunner(ctx, c, log)
	if err != nil {
		return nil, err
	}
	if c.SharedFS && c.UsesSSH() {
		if err := checkSharedWorkdir(ctx, c, runner); err != nil {
			closeRunner()
			return nil, err
		}
	}
	so := slurm.Options{
		Runner: runner, Partition: c.Partition, Account: c.Account, QOS: c.QOS,
		MaxArraySize: c.MaxArraySize, Prologue: c.Prologue, NamePrefix: c.Name, Logger: log,
	}
	if !c.SharedFS {
		so.StateDir = path.Join(c.Workdir, "slurm")
	}
	sx, err := slurm.New(so)
	if err != nil {
		closeRunner()
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	target := &computeTarget{cluster: c, close: closeRunner, config: ref, runner: runner}
	var batches executors.BatchExecutor = sx
	if !c.SharedFS {
		target.remoteRoot = path.Join(c.Workdir, "mirror")
		batches = staging.Wrap(sx, cl, staging.Options{
			Root: target.remoteRoot, StoreDir: path.Join(c.Workdir, "inputs"), Keep: o.LeaveTmp, Log: log,
			Containers: stagedContainers(c, runner),
		})
	}
	// A batch goes once no job has come for a second: the engine starts a
	// scatter's jobs one by one, and on a busy machine preparing a thousand
	// of them takes longer than any short fixed window, which would split
	// the array. A second is little beside a scheduler's own latency.
	target.executor = executors.Coalesce(batches, time.Second, 60*time.Second, c.MaxArraySize)
	return target, nil
}

// clusterRunner runs the scheduler's commands: here for a login node
// (ssh: false), else over SSH, whose client it also returns for staging.
func clusterRunner(ctx context.Context, c *clusters.Cluster, log zerolog.Logger) (slurm.Runner, *remote.Client, func(), error) {
	if !c.UsesSSH() {
		return slurm.LocalRunner{Env: envList(c.Env)}, nil, func() {}, nil
	}
	var pass []byte
	if c.SSHKey.PasswordEnv != "" {
		pass = []byte(os.Getenv(c.SSHKey.PasswordEnv))
	}
	cl, err := remote.Dial(ctx, remote.Config{
		Host: c.Host, Port: c.Port, User: c.Username, KeyPath: c.SSHKey.Path, KeyPassphrase: pass,
		UseAgent: c.SSHKey.Agent, KnownHosts: c.KnownHosts, MaxSessions: c.MaxSessions, Logger: log,
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	return envRunner{cl, c.Env}, cl, func() { cl.Close() }, nil
}

// envRunner exports the cluster's env settings before every script.
type envRunner struct {
	r   slurm.Runner
	env map[string]string
}

// Retry is the SSH client's: repeat a call a dropped connection cut.
func (e envRunner) Retry(ctx context.Context, fn func() error) error {
	if r, ok := e.r.(slurm.Retrier); ok {
		return r.Retry(ctx, fn)
	}
	return fn()
}

func (e envRunner) Run(ctx context.Context, script string) ([]byte, error) {
	var b strings.Builder
	for _, kv := range envList(e.env) {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%s\n", k, shell.Quote(v))
	}
	b.WriteString(script)
	return e.r.Run(ctx, b.String())
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// sharedWorkdirScript prints, on the cluster, the user jobs run as (uid and
// name), the workdir or its nearest existing parent, and "writable" or
// that directory's owner.
const sharedWorkdirScript = `d=%s
while [ ! -e "$d" ] && [ "$d" != / ]; do d=$(dirname -- "$d"); done
id -u; id -un; printf '%%s\n' "$d"
if [ -w "$d" ]; then echo writable; else stat -c %%U -- "$d"; fi
`

// checkSharedWorkdir makes sure jobs on a cluster that shares flow's files
// can write there, before anything is submitted: the account jobs run as
// must be able to write the workdir, and must be the account flow runs as
// here (the job directories flow makes are its own). The message says whose
// directory it is and which user the jobs run as.
func checkSharedWorkdir(ctx context.Context, c *clusters.Cluster, r slurm.Runner) error {
	out, err := r.Run(ctx, fmt.Sprintf(sharedWorkdirScript, shell.Quote(c.Workdir)))
	if err != nil {
		return fmt.Errorf("cluster %s: cannot check its workdir %s: %w", c.Name, c.Workdir, err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) != 4 {
		return fmt.Errorf("cluster %s: checking its workdir printed %q", c.Name, out)
	}
	uid, user, dir, state := f[0], f[1], f[2], f[3]
	if state != "writable" {
		return fmt.Errorf("cluster %s: jobs run as %s, who cannot write its workdir %s: %s belongs to %s; give %s write access there or choose another workdir",
			c.Name, user, c.Workdir, dir, state, user)
	}
	if here := strconv.Itoa(os.Getuid()); uid != here && user != userName() {
		return fmt.Errorf("cluster %s: its workdir %s is shared with this machine (shared_fs: true), but jobs run as %s (uid %s) and flow runs as %s (uid %s) here, so jobs could not write the directories flow makes for them; log in to the cluster as %s, run flow as %s, or set shared_fs: false",
			c.Name, c.Workdir, user, uid, userName(), here, userName(), user)
	}
	return nil
}
