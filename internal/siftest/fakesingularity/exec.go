package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// defaultPath is the PATH a container gets unless it is given one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// execOptions is a parsed `exec` or `run` command line.
type execOptions struct {
	binds        []bind
	home         *bind // --home
	noHome       bool
	noProc       bool // --no-mount proc: the container's /proc is only what a bind gives it
	pwd          string
	cleanenv     bool
	contain, pid bool
	ipc          bool
	env          map[string]string // from --env
	image        string
	argv         []string // exec's command, or run's arguments
}

// bind is one mount: host src at container dst.
type bind struct {
	src, dst string
	ro       bool
}

// runAction implements exec and run, which take the same flags: exec
// runs a command in the container, run the image's runscript with the
// arguments given.
func runAction(verb string, args []string) {
	o := parseAction(verb, args)
	if !o.contain {
		fatalf("the stand-in implements only contained runs: add --contain or --containall")
	}
	root, err := extract(o.image)
	if err != nil {
		fatalf("could not open image %s: %v", o.image, err)
	}
	mounts := o.mounts()
	env := o.environ()
	command := o.argv
	if verb == "run" {
		command = append([]string{runscript(root, mounts)}, o.argv...)
	} else if !findCommand(root, mounts, o.pwd, env["PATH"], o.argv[0]) {
		if strings.Contains(o.argv[0], "/") {
			fatalf("stat %s: no such file or directory", o.argv[0])
		}
		fatalf("%q: executable file not found in $PATH", o.argv[0])
	}
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		fatalf("the stand-in needs bwrap (Debian package bubblewrap): %v", err)
	}
	argv := append([]string{"bwrap"}, sandboxArgs(root, mounts, o)...)
	argv = append(argv, "--")
	argv = append(argv, command...)
	// bwrap takes this process's place, so signals sent to the task's
	// process group and its exit status need no relaying.
	err = syscall.Exec(bwrap, argv, environList(env))
	fatalf("exec %s: %v", bwrap, err)
}

// runscript picks what run executes, as the action script for run of
// both real runtimes does (Apptainer's is in
// internal/pkg/util/fs/files/action_script.sh): the image's
// /.singularity.d/runscript if it is executable, else /singularity, the
// runscript of Singularity 2.x images (recent Apptainers look for
// /apptainer instead); else /bin/sh, after "INFO: No runscript found in
// container, executing /bin/sh" (hidden by --quiet), so that run's
// arguments go to the shell. Only an image with neither is an error:
// "ERROR: No runscript and no /bin/sh executable found in container,
// aborting", exit status 1, since the action script in the container
// reports it, not the runtime itself.
func runscript(root string, mounts []mount) string {
	for _, p := range []string{"/.singularity.d/runscript", "/singularity"} {
		if host, ok := hostPath(root, mounts, p); ok && isExecutable(host) {
			return p
		}
	}
	if host, ok := hostPath(root, mounts, "/bin/sh"); ok && isExecutable(host) {
		if !quiet {
			fmt.Fprintln(os.Stderr, "INFO:    No runscript found in container, executing /bin/sh")
		}
		return "/bin/sh"
	}
	fmt.Fprintln(os.Stderr, "ERROR:   No runscript and no /bin/sh executable found in container, aborting")
	os.Exit(1)
	return ""
}

// parseAction reads exec's or run's flags, which end at the first
// non-flag: the image.
func parseAction(verb string, args []string) *execOptions {
	o := &execOptions{env: map[string]string{}}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		arg, name := args[0], strings.SplitN(args[0], "=", 2)[0]
		args = args[1:]
		var v string
		switch name {
		case "-C", "--containall":
			o.contain, o.cleanenv, o.pid, o.ipc = true, true, true, true
		case "-c", "--contain":
			o.contain = true
		case "-e", "--cleanenv":
			o.cleanenv = true
		case "-p", "--pid":
			o.pid = true
		case "-i", "--ipc":
			o.ipc = true
		case "--no-home":
			o.noHome = true
		case "--no-mount":
			v, args = flagValue(name, arg, args)
			for _, m := range strings.Split(v, ",") {
				if m != "proc" {
					fatalf("--no-mount %s: the stand-in leaves out proc only", m)
				}
				o.noProc = true
			}
		case "--no-eval", "--writable-tmpfs":
			// The stand-in never evaluates the environment, and the
			// root is writable where flow needs it: in its mounts.
		case "-B", "--bind":
			v, args = flagValue(name, arg, args)
			o.binds = append(o.binds, parseBinds(v)...)
		case "-H", "--home":
			v, args = flagValue(name, arg, args)
			src, dst, _ := strings.Cut(v, ":")
			if dst == "" {
				dst = src
			}
			o.home = &bind{src: src, dst: dst}
		case "--pwd":
			o.pwd, args = flagValue(name, arg, args)
		case "--env":
			v, args = flagValue(name, arg, args)
			kv, err := parseEnvFlag(v)
			if err != nil {
				fatalf("invalid argument %q for \"--env\" flag: %v", v, err)
			}
			for k, v := range kv {
				o.env[k] = v
			}
		default:
			fatalf("unknown flag: %s", name)
		}
	}
	if verb == "exec" && len(args) < 2 {
		fatalf("exec needs an image and a command")
	}
	if len(args) < 1 {
		fatalf("%s needs an image", verb)
	}
	o.image, o.argv = args[0], args[1:]
	if o.pwd == "" {
		o.pwd = "/"
	}
	return o
}

// parseBinds reads a --bind value: comma-separated src[:dst[:opts]].
func parseBinds(v string) []bind {
	var out []bind
	for _, spec := range strings.Split(v, ",") {
		parts := strings.Split(spec, ":")
		if len(parts) > 3 || parts[0] == "" {
			fatalf("wrong bind specification %q", spec)
		}
		b := bind{src: parts[0], dst: parts[0]}
		if len(parts) > 1 {
			b.dst = parts[1]
		}
		if len(parts) == 3 {
			switch parts[2] {
			case "ro":
				b.ro = true
			case "rw":
			default:
				fatalf("wrong bind option %q in %q (want ro or rw)", parts[2], spec)
			}
		}
		if !filepath.IsAbs(b.src) || !path.IsAbs(b.dst) {
			fatalf("bind %q: paths must be absolute", spec)
		}
		if _, err := os.Stat(b.src); err != nil {
			fatalf("mount hook function failure: %v", err)
		}
		out = append(out, b)
	}
	return out
}

// parseEnvFlag splits an --env value the way real runtimes do: their flag
// is a pflag StringToString, so a value with one '=' loses surrounding
// double quotes, and one with more is read as CSV, splitting at commas.
// Being as strict as the real parser is the point: flow must quote for it.
func parseEnvFlag(v string) (map[string]string, error) {
	var pairs []string
	switch strings.Count(v, "=") {
	case 0:
		return nil, fmt.Errorf("%s must be formatted as key=value", v)
	case 1:
		pairs = []string{strings.Trim(v, `"`)}
	default:
		var err error
		if pairs, err = csv.NewReader(strings.NewReader(v)).Read(); err != nil {
			return nil, err
		}
	}
	out := map[string]string{}
	for _, p := range pairs {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("%s must be formatted as key=value", p)
		}
		out[k] = val
	}
	return out, nil
}

// environ is the command's environment: with --cleanenv only what the
// runtime sets and --env adds; otherwise the host's too. PATH is never the
// host's: it means nothing inside the image.
func (o *execOptions) environ() map[string]string {
	env := map[string]string{}
	if !o.cleanenv {
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
	} else {
		env["LANG"] = "C"
	}
	env["PATH"] = defaultPath
	env["HOME"] = o.homeDir()
	for _, prefix := range []string{"APPTAINER", "SINGULARITY"} {
		env[prefix+"_CONTAINER"] = o.image
		env[prefix+"_NAME"] = filepath.Base(o.image)
	}
	for k, v := range o.env {
		if k == "HOME" {
			warnf("Overriding HOME environment variable with --env is not permitted; use --home")
			continue
		}
		env[k] = v
	}
	return env
}

// homeDir is $HOME in the container: --home's destination, else the
// user's home directory.
func (o *execOptions) homeDir() string {
	if o.home != nil {
		return o.home.dst
	}
	if h := os.Getenv("HOME"); path.IsAbs(h) {
		return h
	}
	return "/root"
}

func environList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
