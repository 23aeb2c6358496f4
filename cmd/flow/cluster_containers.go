package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/executors/singularity"
	"github.com/flow-cwl/flow/executors/slurm"
	"github.com/flow-cwl/flow/executors/staging"
	"github.com/flow-cwl/flow/images"
	"github.com/flow-cwl/flow/internal/clusters"
	"github.com/flow-cwl/flow/internal/shell"
)

// Containers on a cluster run with the runtime its configuration names
// (containers.singularity, containers.module), never the one found on the
// machine flow runs on. Where the cluster shares flow's files, the
// runtime's layer (executors/singularity) goes over the Slurm executor, as
// on this machine; where it does not, the staging executor uploads each
// image once and starts the runtime itself. With containers.pull: login,
// images named by dockerPull are pulled on the cluster's login node
// instead, and nothing is pulled here nor uploaded.

// stagedContainers is how jobs on a cluster that does not share flow's
// files run images: with the runtime its configuration names, checked
// (run with --version, where jobs would run it) before the first such
// job; images go to its workdir/images. Nil when none is configured.
func stagedContainers(c *clusters.Cluster, r slurm.Runner) *staging.Containers {
	if !c.Containers.HasRuntime() {
		return nil
	}
	return &staging.Containers{
		ImageDir: path.Join(c.Workdir, "images"),
		Runtime: func(ctx context.Context) (staging.Runtime, error) {
			out, err := clusters.CheckRuntime(ctx, c, r, shell.Quote)
			if err != nil {
				return staging.Runtime{}, fmt.Errorf("cluster %s: %w", c.Name, err)
			}
			name, version, err := staging.ParseVersion(out)
			if err != nil {
				return staging.Runtime{}, fmt.Errorf("cluster %s: the container runtime %s: %w", c.Name, c.Containers.Runtime(), err)
			}
			return staging.Runtime{Argv: clusters.RuntimeArgv(c.Containers), Name: name, Version: version}, nil
		},
	}
}

// clusterContainers lets steps with a DockerRequirement run on a cluster
// with the runtime its configuration names, never the one found on this
// machine. On a cluster that does not share flow's files the staging
// executor runs it (and says it has containers when one is configured);
// on one that does, it is checked once here and the runtime's layer goes
// over the executor. Images come from this machine's image cache. Without
// a usable runtime, a step that must run in a container is refused with
// the reason.
func clusterContainers(ctx context.Context, o runOptions, opts *engine.Options, target *computeTarget, log zerolog.Logger) error {
	if o.Containers.Off {
		return nil
	}
	c := target.cluster
	var reason string
	switch {
	case !c.Containers.HasRuntime():
		reason = "this cluster does not share flow's file system (shared_fs: false) and its configuration names no container runtime; set containers.singularity (or containers.module) for it in the compute configuration, or run it on the host with --no-container"
	case c.SharedFS:
		rt, err := sharedRuntime(ctx, c, target.runner)
		if err != nil {
			reason = err.Error()
			break
		}
		opts.Executor = singularity.Wrap(opts.Executor, rt)
	}
	if reason != "" {
		if o.Containers.Require {
			return fmt.Errorf("--singularity: %s", reason)
		}
		log.Debug().Str("reason", reason).Msg("steps with a DockerRequirement hint run on the host")
		opts.NoContainersReason = reason
		return nil
	}
	dir, err := images.DefaultDir()
	if err != nil {
		return err
	}
	// Pulling a docker:// image into the cache takes a runtime here;
	// local SIF files do not.
	puller := images.RuntimePuller{}
	if rt, err := singularity.FindRuntime(ctx, os.Getenv(runtimeEnv)); err == nil {
		puller.Runtime = rt.Path
	} else {
		log.Debug().Err(err).Msg("no container runtime on this machine: images can be local SIF files only")
	}
	local := imageSource{&images.Cache{Dir: dir, Puller: puller, Log: log}}
	opts.Containers = local
	if !c.SharedFS && c.Containers.PullsOnLogin() {
		opts.Containers = loginImages{local: local, puller: loginPuller(c, target.runner, log)}
	}
	return nil
}

// loginPuller pulls images on the cluster's login node with the runtime
// its configuration names, into the directory uploads go to. Registries
// named in FLOW_INSECURE_REGISTRIES are spoken to over plain HTTP there
// too; containers.registry_ca_dir is the cluster's own CA directory.
func loginPuller(c *clusters.Cluster, r slurm.Runner, log zerolog.Logger) *staging.LoginPuller {
	insecure := insecureRegistries()
	return &staging.LoginPuller{
		Remote:   r,
		ImageDir: path.Join(c.Workdir, "images"),
		Argv:     clusters.RuntimeArgv(c.Containers),
		Insecure: func(host string) bool { return slices.Contains(insecure, host) },
		CADir:    c.Containers.RegistryCADir,
		Where:    "cluster " + c.Name,
		Log:      log,
	}
}

// loginImages gives the engine images pulled on the cluster's login node:
// their paths are the cluster's, which the staging executor runs as they
// are. A local SIF file, or an image with no dockerPull to pull it from,
// comes from this machine's cache and is uploaded as usual.
type loginImages struct {
	local  imageSource
	puller *staging.LoginPuller
}

func (s loginImages) Image(ctx context.Context, docker map[string]any, baseDir string) (engine.Image, error) {
	pull, _ := docker["dockerPull"].(string)
	id, _ := docker["dockerImageId"].(string)
	ref := images.NewRef(pull, id, baseDir)
	if ref.File != "" || ref.PullURI() == "" {
		return s.local.Image(ctx, docker, baseDir)
	}
	img, err := s.puller.Pull(ctx, ref.PullURI())
	if err != nil {
		return engine.Image{}, err
	}
	return engine.Image{Name: ref.String(), Path: img.Path, Digest: img.Digest}, nil
}

// sharedRuntime checks the runtime a cluster sharing flow's files names
// and returns it as its jobs start it. A module to load is loaded by a
// small launcher in the workdir, which the nodes see.
func sharedRuntime(ctx context.Context, c *clusters.Cluster, r slurm.Runner) (singularity.Runtime, error) {
	out, err := clusters.CheckRuntime(ctx, c, r, shell.Quote)
	if err != nil {
		return singularity.Runtime{}, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	name, version, err := staging.ParseVersion(out)
	if err != nil {
		return singularity.Runtime{}, fmt.Errorf("cluster %s: the container runtime %s: %w", c.Name, c.Containers.Runtime(), err)
	}
	p := c.Containers.Runtime()
	if c.Containers.Module != "" {
		if p, err = writeLauncher(c); err != nil {
			return singularity.Runtime{}, err
		}
	}
	return singularity.Runtime{Path: p, Name: name, Version: version}, nil
}

// writeLauncher writes workdir/bin/<runtime>-<module>, a script that loads
// the module in a login shell and runs the runtime with its arguments.
func writeLauncher(c *clusters.Cluster) (string, error) {
	argv := clusters.RuntimeArgv(c.Containers)
	words := make([]string, len(argv))
	for i, w := range argv {
		words[i] = shell.Quote(w)
	}
	text := "#!/bin/sh\n# Written by flow: runs the cluster's container runtime after its module.\nexec " + strings.Join(words, " ") + ` "$@"` + "\n"
	name := path.Base(c.Containers.Runtime()) + "-" + strings.NewReplacer("/", "_").Replace(c.Containers.Module)
	p := filepath.Join(c.Workdir, "bin", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("cluster %s: cannot write the container runtime's launcher: %w", c.Name, err)
	}
	tmp := p + ".tmp-" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, []byte(text), 0o755); err != nil {
		return "", fmt.Errorf("cluster %s: cannot write the container runtime's launcher: %w", c.Name, err)
	}
	return p, os.Rename(tmp, p)
}
