package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/executors/singularity"
	"github.com/flow-cwl/flow/images"
)

// Steps with a DockerRequirement run in Singularity/Apptainer when a
// runtime is found (--singularity insists on one), on the host with
// --no-container. Their images come from the image cache, pulled into it
// before the first step when missing.

// runtimeEnv names the runtime to use instead of looking on PATH.
const runtimeEnv = "FLOW_SINGULARITY"

// insecureEnv lists registries (host:port, comma-separated) that images
// are pulled from over plain HTTP.
const insecureEnv = "FLOW_INSECURE_REGISTRIES"

// registryCAEnv names a directory of CA certificates that pulls trust
// beside the system's.
const registryCAEnv = "FLOW_REGISTRY_CA_DIR"

// containerMode is what the flags ask of containers.
type containerMode struct {
	Require bool // --singularity: a runtime must be found
	Off     bool // --no-container: run every step on the host
}

// findContainers finds the runtime and the image cache. It returns no
// runtime when containers are off or (not required and) none is found.
func findContainers(ctx context.Context, m containerMode, log zerolog.Logger) (*singularity.Runtime, engine.Containers, error) {
	if m.Require && m.Off {
		return nil, nil, usagef("--singularity and --no-container contradict each other")
	}
	if m.Off {
		return nil, nil, nil
	}
	rt, err := singularity.FindRuntime(ctx, os.Getenv(runtimeEnv))
	if err != nil {
		if m.Require {
			return nil, nil, fmt.Errorf("--singularity: %w", err)
		}
		log.Debug().Err(err).Msg("steps with a DockerRequirement hint run on the host")
		return nil, nil, nil
	}
	dir, err := images.DefaultDir()
	if err != nil {
		return nil, nil, err
	}
	log.Debug().Str("runtime", rt.Path).Str("version", rt.Version).Str("cache", dir).Msg("containers")
	puller := images.RuntimePuller{Runtime: rt.Path, Insecure: insecureRegistries(), CADir: os.Getenv(registryCAEnv)}
	cache := &images.Cache{Dir: dir, Puller: puller, Log: log}
	return &rt, imageSource{cache}, nil
}

// imageSource gives the engine images from the cache.
type imageSource struct{ cache *images.Cache }

func (s imageSource) Image(ctx context.Context, docker map[string]any, baseDir string) (engine.Image, error) {
	pull, _ := docker["dockerPull"].(string)
	id, _ := docker["dockerImageId"].(string)
	ref := images.NewRef(pull, id, baseDir)
	img, err := s.cache.Ensure(ctx, ref)
	if err != nil {
		return engine.Image{}, err
	}
	return engine.Image{Name: ref.String(), Path: img.Path, Digest: img.Digest}, nil
}

// insecureRegistries reads $FLOW_INSECURE_REGISTRIES.
func insecureRegistries() []string {
	var hosts []string
	for _, h := range strings.Split(os.Getenv(insecureEnv), ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}
