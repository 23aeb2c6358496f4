package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/engine"
	"github.com/flow-cwl/flow/images"
)

const imagesUsage = `usage: flow images pull DOCUMENT
       flow images ls [-o text|json]

Steps with a DockerRequirement run in Singularity/Apptainer images kept in
one cache directory ($FLOW_SINGULARITY_CACHE, else $CWL_SINGULARITY_CACHE,
else the user's cache directory). pull fetches every image a workflow
needs ahead of time (flow run does it too, before the first step); ls
lists the cache.
`

// cmdImages is "flow images pull|ls".
func cmdImages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, imagesUsage)
		return usagef("flow images needs a command: pull or ls")
	}
	switch args[0] {
	case "pull":
		return cmdImagesPull(ctx, args[1:], stdout, stderr)
	case "ls", "list":
		return cmdImagesLs(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, imagesUsage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, imagesUsage)
	return usagef("unknown images command %q; use pull or ls", args[0])
}

func cmdImagesPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flow images pull", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, "usage: flow images pull DOCUMENT\n") }
	rest, err := parseFlags(fs, args, 1, 1)
	if err != nil {
		return err
	}
	p, err := loadChecked(rest[0])
	if err != nil {
		return err
	}
	_, src, err := findContainers(ctx, containerMode{Require: true}, zerolog.Nop())
	if err != nil {
		return err
	}
	imgs, err := engine.PullImages(ctx, src, p, nil)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, img := range imgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", img.Name, img.Digest, img.Path)
	}
	if ferr := tw.Flush(); err == nil {
		err = ferr
	}
	return err
}

func cmdImagesLs(args []string, stdout, stderr io.Writer) error {
	var format string
	fs := flag.NewFlagSet("flow images ls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addOutputFlag(fs, &format)
	if _, err := parseFlags(fs, args, 0, 0); err != nil {
		return err
	}
	dir, err := images.DefaultDir()
	if err != nil {
		return err
	}
	entries, err := (&images.Cache{Dir: dir}).List()
	if err != nil {
		return err
	}
	if format == "json" {
		return writeImagesJSON(stdout, entries)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIGEST\tSIZE\tLAST USED")
	for _, e := range entries {
		digest := e.Digest
		if e.Err != nil {
			digest = "unusable: " + oneLine(e.Err.Error())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, digest, formatSize(e.Size), formatTime(e.LastUsed))
	}
	fmt.Fprintf(tw, "\n%d images in %s\n", len(entries), dir)
	return tw.Flush()
}

func writeImagesJSON(w io.Writer, entries []images.Entry) error {
	type entry struct {
		Name     string    `json:"name"`
		Path     string    `json:"path"`
		Digest   string    `json:"digest,omitempty"`
		Size     int64     `json:"size"`
		LastUsed time.Time `json:"last_used"`
		Error    string    `json:"error,omitempty"`
	}
	out := []entry{}
	for _, e := range entries {
		x := entry{Name: e.Name, Path: e.Path, Digest: e.Digest, Size: e.Size, LastUsed: e.LastUsed}
		if e.Err != nil {
			x.Error = e.Err.Error()
		}
		out = append(out, x)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
