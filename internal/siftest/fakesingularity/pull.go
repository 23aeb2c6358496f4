package main

import (
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// registryVar names the test registry's base URL.
const registryVar = "FLOW_TEST_REGISTRY"

// runPull implements `pull [--force] [--name DEST] [DEST] URI`: it fetches
// <registry>/<URI without scheme> and writes the bytes to DEST.
func runPull(args []string) {
	var force bool
	var dest string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		arg, name := args[0], strings.SplitN(args[0], "=", 2)[0]
		args = args[1:]
		switch name {
		case "-F", "--force":
			force = true
		case "--name":
			dest, args = flagValue(name, arg, args)
		default:
			fatalf("unknown flag: %s", name)
		}
	}
	var uri string
	switch len(args) {
	case 1:
		uri = args[0]
	case 2:
		dest, uri = args[0], args[1]
	default:
		fatalf("pull needs [DEST] URI")
	}
	_, ref, ok := strings.Cut(uri, "://")
	if !ok {
		fatalf("%q is not a URI (want scheme://reference)", uri)
	}
	if dest == "" {
		dest = strings.ReplaceAll(path.Base(ref), ":", "_") + ".sif"
	}
	if _, err := os.Stat(dest); err == nil && !force {
		fatalf("Image file already exists: %q - will not overwrite", dest)
	}
	if err := download(ref, dest); err != nil {
		fatalf("While pulling %s: %v", uri, err)
	}
}

// download writes the registry's bytes for ref to dest, whole or not at
// all.
func download(ref, dest string) error {
	base := os.Getenv(registryVar)
	if base == "" {
		return fmt.Errorf("the stand-in pulls only from the test registry, and %s is not set", registryVar)
	}
	resp, err := http.Get(strings.TrimSuffix(base, "/") + "/" + ref)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the registry answered %s", resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".pull-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.ReadFrom(resp.Body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}
