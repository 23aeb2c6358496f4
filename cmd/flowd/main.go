// Command flowd is the team daemon: it runs CWL workflows that members
// submit over HTTP (flow's API and GA4GH WES), on this machine or on the
// team's Slurm clusters, and keeps their provenance.
//
//	flowd [--config flowd.yaml] [--listen ADDR] [--data-dir DIR]
//	flowd token create --team T --role admin|operator|viewer [--name N] [--data-dir DIR]
//
// Everything it keeps is in the data directory: its database (runs,
// events, token hashes, encrypted SSH keys), its key file, and each
// team's runs, provenance database and step cache (teams/<team>/).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"gopkg.in/yaml.v3"

	"github.com/flow-cwl/flow/internal/logging"
	"github.com/flow-cwl/flow/server"
	"github.com/flow-cwl/flow/server/store"
)

// fileConfig is flowd.yaml.
type fileConfig struct {
	Listen         string `yaml:"listen"`
	DataDir        string `yaml:"data_dir"`
	TLSCert        string `yaml:"tls_cert"`
	TLSKey         string `yaml:"tls_key"`
	Flow           string `yaml:"flow"`     // the flow binary; default: beside flowd, else on PATH
	Clusters       string `yaml:"clusters"` // compute configuration for runs on clusters
	MaxBodyBytes   int64  `yaml:"max_body_bytes"`
	MaxRunning     int    `yaml:"max_running"`
	MaxRunningTeam int    `yaml:"max_running_per_team"`
	MaxQueuedTeam  int    `yaml:"max_queued_per_team"`
	Isolation      string `yaml:"isolation"`   // sandbox (default) or none
	ShareCache     bool   `yaml:"share_cache"` // one step cache for every team
	// Teams holds per-team settings: data_roots are read-only directories
	// the team's runs may read besides their own files and outputs.
	Teams map[string]struct {
		DataRoots []string `yaml:"data_roots"`
	} `yaml:"teams"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "flowd:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) >= 2 && args[0] == "token" && args[1] == "create" {
		return tokenCreate(args[2:], stdout, stderr)
	}
	fs := flag.NewFlagSet("flowd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "read settings from the YAML `file`")
	listen := fs.String("listen", "", "listen on `address` (default 127.0.0.1:8080)")
	dataDir := fs.String("data-dir", "", "keep everything under `dir` (default: flowd in the user's data directory)")
	var logOpts logging.Options
	fs.BoolVar(&logOpts.Quiet, "quiet", false, "log only warnings and errors")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fc, err := readConfig(*configPath)
	if err != nil {
		return err
	}
	cfg, err := serverConfig(fc, *listen, *dataDir)
	if err != nil {
		return err
	}
	cfg.Log = logging.New(stderr, logOpts)
	s, err := server.New(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.ListenAndServe(ctx)
}

func readConfig(path string) (fileConfig, error) {
	var fc fileConfig
	if path == "" {
		return fc, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fc, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return fc, fmt.Errorf("%s: %w", path, err)
	}
	return fc, checkIsolation(path, fc.Isolation)
}

// serverConfig merges the file's settings, the flags (which win) and the
// defaults.
func serverConfig(fc fileConfig, listen, dataDir string) (server.Config, error) {
	cfg := server.Config{Listen: fc.Listen, DataDir: fc.DataDir, TLSCert: fc.TLSCert, TLSKey: fc.TLSKey,
		Flow: fc.Flow, ComputeConfig: fc.Clusters, MaxBodyBytes: fc.MaxBodyBytes,
		Limits:    server.Limits{Running: fc.MaxRunning, RunningPerTeam: fc.MaxRunningTeam, QueuedPerTeam: fc.MaxQueuedTeam},
		Isolation: fc.Isolation, ShareCache: fc.ShareCache, CheckSandbox: checkSandbox}
	for team, t := range fc.Teams {
		for _, root := range t.DataRoots {
			if !filepath.IsAbs(root) {
				return cfg, fmt.Errorf("teams.%s.data_roots: %q must be an absolute path", team, root)
			}
		}
		if cfg.DataRoots == nil {
			cfg.DataRoots = map[string][]string{}
		}
		cfg.DataRoots[team] = t.DataRoots
	}
	if listen != "" {
		cfg.Listen = listen
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	var err error
	if cfg.DataDir, err = resolveDataDir(firstOf(dataDir, cfg.DataDir)); err != nil {
		return cfg, err
	}
	if cfg.Flow == "" {
		cfg.Flow, err = findFlow()
	}
	return cfg, err
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func resolveDataDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "flowd"), nil
}

// findFlow looks for the flow binary beside flowd's own, then on PATH.
func findFlow() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "flow")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("flow")
	if err != nil {
		return "", errors.New("cannot find the flow binary beside flowd or on PATH; set flow: in the config file")
	}
	return filepath.Abs(p)
}

// tokenCreate makes a token offline, straight in the database, to
// bootstrap a team: the secret is printed once and kept nowhere.
func tokenCreate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flowd token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	team := fs.String("team", "", "the team the token belongs to")
	role := fs.String("role", "viewer", "admin, operator or viewer")
	name := fs.String("name", "", "what the token is for, e.g. \"alice laptop\"")
	dataDir := fs.String("data-dir", "", "the daemon's data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *team == "" || !store.Role(*role).Valid() {
		fs.Usage()
		return errors.New("token create needs --team and a --role of admin, operator or viewer")
	}
	dir, err := resolveDataDir(*dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := store.Open(dir)
	if err != nil {
		return err
	}
	defer st.Close()
	secret, _, err := st.CreateToken(*team, store.Role(*role), *name)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, secret)
	return err
}
