// Command flowd is the team daemon: it runs CWL workflows that members
// submit over HTTP (flow's API and GA4GH WES), on this machine or on the
// team's Slurm clusters, and keeps their provenance.
//
//	flowd [--config flowd.yaml] [--listen ADDR] [--data-dir DIR] [--init] [--quiet]
//	flowd token create --team T --role admin|operator|viewer [--name N] [--data-dir DIR]
//
// Exit status: 0, or 1 when the daemon fails, 2 for a command line it
// cannot make sense of.
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
	"strings"
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
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var usage usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "flowd:", err)
		stop()
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "flowd:", err)
		stop()
		os.Exit(1)
	}
}

// usageError is a command line flowd cannot make sense of. It is never
// guessed at: a mistyped subcommand or a stray word must not start a
// daemon on the defaults.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

const mainUsage = `Usage:
  flowd [flags]            run the daemon
  flowd token create ...   make a token offline (flowd token create --help)

The API is under /api/v1 and /ga4gh/wes/v1; a browser opening / gets the
web interface (sign in with a token).

Flags:
`

const tokenUsage = `Usage:
  flowd token create --team T --role admin|operator|viewer [--name N] [--data-dir DIR]

Makes a token straight in the database, to bootstrap a team (before the
daemon's first start, or while it is stopped); the secret is printed once.
Once the daemon runs, an admin token makes others over the API.

Flags:
`

// parseFlags parses args into fs. Help (-h, --help) goes to stdout and is
// flag.ErrHelp; a bad flag or a stray argument is one line, a usageError.
func parseFlags(fs *flag.FlagSet, usage string, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard) // the flag package would print the whole usage for a typo
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return err
	}
	if err != nil {
		return usagef("%v (see %s --help)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (see %s --help)", fs.Arg(0), fs.Name())
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "token":
			return tokenCommand(args[1:], stdout)
		case "help":
			return run(ctx, []string{"--help"}, stdout, stderr)
		}
		return usagef("unknown command %q: flowd runs the daemon, flowd token create makes a token (see flowd --help)", args[0])
	}
	fs := flag.NewFlagSet("flowd", flag.ContinueOnError)
	configPath := fs.String("config", "", "read settings from the YAML `file`")
	listen := fs.String("listen", "", "listen on `address` (default 127.0.0.1:8080)")
	dataDir := fs.String("data-dir", "", "keep everything under `dir` (default: flowd in the user's data directory)")
	initDB := fs.Bool("init", false, "accept an empty (0-byte) flowd.db and make a new database in it; without it an empty file is refused, as a lost database would look")
	var logOpts logging.Options
	fs.BoolVar(&logOpts.Quiet, "quiet", false, "log only warnings and errors")
	if err := parseFlags(fs, mainUsage, args, stdout); err != nil {
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
	cfg.Init = *initDB
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

// tokenCommand is flowd token SUBCOMMAND.
func tokenCommand(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("token needs a command: flowd token create --team T --role R (see flowd token --help)")
	}
	switch args[0] {
	case "create":
		return tokenCreate(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, tokenUsage)
		o := tokenFlags(flag.NewFlagSet("flowd token create", flag.ContinueOnError))
		o.fs.SetOutput(stdout)
		o.fs.PrintDefaults()
		return flag.ErrHelp
	}
	return usagef("unknown command \"flowd token %s\": flowd token create makes a token (see flowd token --help)", args[0])
}

type tokenOpts struct {
	fs                        *flag.FlagSet
	team, role, name, dataDir *string
}

func tokenFlags(fs *flag.FlagSet) tokenOpts {
	return tokenOpts{fs: fs,
		team:    fs.String("team", "", "the team the token belongs to"),
		role:    fs.String("role", "viewer", "admin, operator or viewer"),
		name:    fs.String("name", "", "what the token is for, e.g. \"alice laptop\""),
		dataDir: fs.String("data-dir", "", "the daemon's data directory"),
	}
}

// tokenCreate makes a token offline, straight in the database, to
// bootstrap a team: the secret is printed once and kept nowhere.
func tokenCreate(args []string, stdout io.Writer) error {
	o := tokenFlags(flag.NewFlagSet("flowd token create", flag.ContinueOnError))
	if err := parseFlags(o.fs, tokenUsage, args, stdout); err != nil {
		return err
	}
	team, role, name, dataDir := o.team, o.role, o.name, o.dataDir
	if *team == "" || !store.Role(*role).Valid() {
		return usagef("token create needs --team and a --role of admin, operator or viewer (see flowd token create --help)")
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
