package engine

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/flow-cwl/flow/schema"
)

// Containers makes the images that DockerRequirements name available on
// this machine (from a cache, or pulled into it).
type Containers interface {
	// Image returns the image of a DockerRequirement (its fields, as in
	// the document) of a document in baseDir.
	Image(ctx context.Context, docker map[string]any, baseDir string) (Image, error)
}

// Image is a container image ready to run: a SIF file and what
// identifies its content.
type Image struct {
	Name   string // as the document names it, e.g. "debian:stable-slim"
	Path   string // the SIF file
	Digest string // "sha256:..." of the file
}

// The container's fixed places, as the CWL spec and other runners have
// them: a tool that assumes them behaves the same under flow.
const (
	containerOutdir = "/var/spool/cwl"
	containerTmpdir = "/tmp"
	containerInputs = "/var/lib/cwl"
)

// containerImage returns the image a job of p runs in, or nil when it runs
// on the host: no DockerRequirement, or containers switched off.
func (e *Engine) containerImage(ctx context.Context, p *schema.Process, pe *procEnv) (*Image, error) {
	d, ok := pe.find("DockerRequirement")
	if !ok || e.opts.Containers == nil || e.opts.NoContainers {
		return nil, nil
	}
	img, err := e.opts.Containers.Image(ctx, d, docDir(p))
	if err != nil {
		return nil, fmt.Errorf("%s: DockerRequirement: %w", shortName(p), err)
	}
	return &img, nil
}

// checkContainers refuses a required DockerRequirement that nothing can
// honour, before any job runs.
func (e *Engine) checkContainers(pe *procEnv) error {
	if !pe.required("DockerRequirement") || e.opts.Containers != nil || e.opts.NoContainers {
		return nil
	}
	d, _ := schema.Find(pe.reqs, "DockerRequirement")
	msg := "this step must run in a container, and no Singularity or Apptainer runtime is available; install one (or pass --singularity to insist on it), or run it on the host with --no-container"
	if e.opts.NoContainersReason != "" {
		msg = "this step must run in a container, and " + e.opts.NoContainersReason
	}
	return &schema.Error{Pos: d.Pos, Field: "requirements.DockerRequirement", Msg: msg, Err: schema.ErrUnsupported}
}

// containerView puts the job's output directory and tmpdir at the
// container's fixed places and each input under /var/lib/cwl: the files
// of one directory (a file and its secondary files, say) together in a
// stgN directory of their own, under their names.
func containerView(j *job, outdir string) *pathView {
	if outdir == "" {
		outdir = containerOutdir
	}
	v := &pathView{aliases: map[string]string{}}
	v.add(j.outdir, outdir, true)
	v.add(j.tmpdir, containerTmpdir, true)
	_ = walkFiles(j.inputs, func(m map[string]any) error {
		p := localPath(m)
		if p == "" || v.covers(p) {
			return nil
		}
		dir := filepath.Dir(p)
		stg, ok := v.aliases[dir]
		if !ok {
			stg = path.Join(containerInputs, fmt.Sprintf("stg%d", len(v.aliases)+1))
			v.aliases[dir] = stg
		}
		v.add(p, path.Join(stg, filepath.Base(p)), false)
		return nil
	})
	return v
}

// PullImages makes every image that p and the processes it runs name
// available before any job starts: a missing image fails the run at once,
// not hours in, and compute nodes never pull.
func (e *Engine) PullImages(ctx context.Context, p *schema.Process) error {
	if e.opts.Containers == nil || e.opts.NoContainers {
		return nil
	}
	_, err := PullImages(ctx, e.opts.Containers, p, e.opts.Requirements)
	return err
}

// PullImages makes available, through c, every image that p, its steps
// and their processes name (and extra, requirements over them all), and
// returns them, each once.
func PullImages(ctx context.Context, c Containers, p *schema.Process, extra []schema.Requirement) ([]Image, error) {
	var out []Image
	for _, d := range dockerRequirements(p, extra) {
		img, err := c.Image(ctx, d.fields, d.baseDir)
		if err != nil {
			return out, fmt.Errorf("%s: DockerRequirement: %w", d.pos, err)
		}
		out = append(out, img)
	}
	return out, nil
}

// dockerReq is one DockerRequirement and the directory of its document.
type dockerReq struct {
	fields  map[string]any
	baseDir string
	pos     schema.Pos
}

// dockerRequirements lists the DockerRequirements (and hints) of p, its
// steps and their processes, each image once.
func dockerRequirements(p *schema.Process, extra []schema.Requirement) []dockerReq {
	var out []dockerReq
	seen := map[string]bool{}
	add := func(rs []schema.Requirement, baseDir string) {
		for _, r := range rs {
			if r.Class != "DockerRequirement" {
				continue
			}
			k := fmt.Sprint(r.Fields["dockerPull"], "\x00", r.Fields["dockerImageId"], "\x00", baseDir)
			if !seen[k] {
				seen[k] = true
				out = append(out, dockerReq{r.Fields, baseDir, r.Pos})
			}
		}
	}
	var walk func(p *schema.Process)
	walk = func(p *schema.Process) {
		dir := docDir(p)
		add(p.Requirements, dir)
		add(p.Hints, dir)
		for _, s := range p.Steps {
			add(s.Requirements, dir)
			add(s.Hints, dir)
			if s.Run != nil {
				walk(s.Run)
			}
		}
	}
	add(extra, docDir(p))
	walk(p)
	return out
}

// docDir is the directory of p's document on disk, where relative image
// files are found.
func docDir(p *schema.Process) string {
	d := documentDir(p.ID)
	if strings.HasPrefix(d, "file:") {
		return schema.URIPath(d)
	}
	return d
}
