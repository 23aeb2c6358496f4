package main

import (
	"context"
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
	"github.com/flow-cwl/flow/executors/slurm"
	"github.com/flow-cwl/flow/executors/staging"
	"github.com/flow-cwl/flow/internal/clusters"
	"github.com/flow-cwl/flow/internal/remote"
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
}

// loadCluster reads the compute configuration and finds the cluster.
func loadCluster(path, name string) (*clusters.Cluster, error) {
	if path == "" {
		var err error
		if path, err = clusters.DefaultPath(); err != nil {
			return nil, err
		}
	}
	cfg, err := clusters.Load(path)
	if err != nil {
		return nil, err
	}
	if name == "" {
		if len(cfg.Clusters) != 1 {
			return nil, fmt.Errorf("%s describes %d clusters; choose one with --cluster NAME", path, len(cfg.Clusters))
		}
		return &cfg.Clusters[0], nil
	}
	return cfg.Find(name)
}

// openCompute connects to the cluster and builds its executor.
func openCompute(ctx context.Context, o runOptions, log zerolog.Logger) (*computeTarget, error) {
	c, err := loadCluster(o.ComputeConfig, o.Cluster)
	if err != nil {
		return nil, err
	}
	runner, cl, closeRunner, err := clusterRunner(ctx, c, log)
	if err != nil {
		return nil, err
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
	target := &computeTarget{cluster: c, close: closeRunner}
	var batches executors.BatchExecutor = sx
	if !c.SharedFS {
		target.remoteRoot = path.Join(c.Workdir, "mirror")
		batches = staging.Wrap(sx, cl, staging.Options{
			Root: target.remoteRoot, StoreDir: path.Join(c.Workdir, "inputs"), Keep: o.LeaveTmp, Log: log,
		})
	}
	target.executor = executors.Coalesce(batches, 200*time.Millisecond, 2*time.Second, c.MaxArraySize)
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
