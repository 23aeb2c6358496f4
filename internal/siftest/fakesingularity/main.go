// Command fakesingularity is a stand-in for the `singularity` program, for
// flow's tests only; it is never shipped.
//
// Debian packages neither Singularity nor Apptainer. The container tests
// run against a real one (scripts/test installs SingularityCE); this
// program is for machines where none can run, and CI never uses it. It
// implements exactly the subset flow uses, with the same syntax and, as far
// as a test can tell, the same behaviour:
//
//	singularity [--quiet|--silent] --version
//	singularity [--quiet] exec [--containall|--contain] [--cleanenv] [--ipc] [--pid]
//	        [--no-eval] [--no-mount proc] [--no-home | --home SRC[:DST]] [--pwd DIR]
//	        [--bind SRC[:DST[:ro|rw]]]... [--env K=V]... IMAGE COMMAND [ARG...]
//	singularity [--quiet] run [the flags of exec] IMAGE [ARG...]
//	singularity [--quiet] pull [--force] [DEST] URI
//
// exec extracts the SIF's squashfs partition once (cached by the image's
// sha256) and runs the command under bubblewrap with the image as a
// read-only root. Only contained runs are implemented: flow never asks for
// anything else, and sharing the host's home and /tmp would hide bugs.
//
// run does the same with the image's runscript, /.singularity.d/runscript,
// and the arguments given; an image without one gets /bin/sh instead, and
// one without either fails, as with real runtimes (see runscript).
//
// pull fetches from a test registry: FLOW_TEST_REGISTRY holds a base URL,
// and URI, without its scheme, is the path under it.
//
// Errors are reported as real runtimes do: "FATAL:" on stderr and exit
// status 255; warnings ("WARNING:") are silenced by --quiet and --silent.
package main

import (
	"fmt"
	"os"
	"strings"
)

// version is what --version prints. It parses like a real runtime's
// ("<name> version <x.y.z...>") and claims the features of a recent one.
const version = "flow-test-singularity version 3.11.0-stand-in (a stand-in for flow's tests; not a real runtime)"

var quiet bool

func main() {
	args := os.Args[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "--version":
			fmt.Println(version)
			return
		case "-q", "--quiet", "-s", "--silent":
			quiet = true
		case "-d", "--debug", "-v", "--verbose":
		default:
			fatalf("unknown flag: %s", args[0])
		}
		args = args[1:]
	}
	if len(args) == 0 {
		fatalf("no command; the stand-in implements exec, run, pull, version and --version")
	}
	switch args[0] {
	case "version":
		fmt.Println(version)
	case "exec", "run":
		runAction(args[0], args[1:])
	case "pull":
		runPull(args[1:])
	default:
		fatalf("the stand-in implements exec, run, pull, version and --version, not %q", args[0])
	}
}

// fatalf reports an error the way real runtimes do and exits.
func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "FATAL:   "+format+"\n", args...)
	os.Exit(255)
}

func warnf(format string, args ...any) {
	if !quiet {
		fmt.Fprintf(os.Stderr, "WARNING: "+format+"\n", args...)
	}
}

// flagValue takes the value of a flag that has one, given as --flag=V or
// as the next argument; it returns the value and the arguments left.
func flagValue(name, arg string, rest []string) (string, []string) {
	if _, v, ok := strings.Cut(arg, "="); ok {
		return v, rest
	}
	if len(rest) == 0 {
		fatalf("flag needs an argument: %s", name)
	}
	return rest[0], rest[1:]
}
