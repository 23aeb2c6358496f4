package singularity

import (
	"slices"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/executors"
)

var (
	modern = Runtime{Path: "/usr/bin/apptainer", Name: "apptainer", Version: "1.3.4"}
	old    = Runtime{Path: "/usr/bin/singularity", Name: "singularity", Version: "3.7.1-1.el7"}
)

// cwlTask is shaped like the engine's: outdir as HOME and working
// directory, a writable tmpdir, an input mounted read-only.
func cwlTask() *executors.Task {
	return &executors.Task{
		ID:    "main/step",
		Argv:  []string{"sh", "-c", "cat in.txt"},
		Env:   map[string]string{"PATH": "/usr/bin:/bin", "HOME": "/var/spool/cwl", "TMPDIR": "/tmp"},
		Dir:   "/var/spool/cwl",
		Image: "/images/busybox.sif",
		Mounts: []executors.Mount{
			{Source: "/host/in/data.txt", Target: "/var/lib/cwl/stg1/data.txt"},
			{Source: "/host/out", Target: "/var/spool/cwl", Writable: true},
			{Source: "/host/tmp", Target: "/tmp", Writable: true},
		},
	}
}

func TestCommandForATypicalTask(t *testing.T) {
	argv, hostDir, err := Command(modern, cwlTask())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/usr/bin/apptainer", "--silent", "exec", "--containall", "--no-eval",
		"--home", "/host/out:/var/spool/cwl", "--pwd", "/var/spool/cwl",
		"--bind", "/host/tmp:/tmp", // parents first; the outdir is the --home bind
		"--bind", "/host/in/data.txt:/var/lib/cwl/stg1/data.txt:ro",
		"--env", "PATH=/usr/bin:/bin", "--env", "TMPDIR=/tmp",
		"/images/busybox.sif", "sh", "-c", "cat in.txt",
	}
	if !slices.Equal(argv, want) {
		t.Errorf("argv\n  %q\nwant\n  %q", argv, want)
	}
	if hostDir != "/host/out" {
		t.Errorf("hostDir = %q, want /host/out", hostDir)
	}
}

// Map order must not show in the command line: the same task gives the
// same argv, which matters for logs and for tests that compare them.
func TestCommandIsDeterministic(t *testing.T) {
	tk := cwlTask()
	for i := range 20 {
		tk.Env[string(rune('A'+i))+"_VAR"] = "x"
	}
	first, _, err := Command(modern, tk)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, _, _ := Command(modern, tk)
		if !slices.Equal(first, again) {
			t.Fatalf("two calls gave\n  %q\nand\n  %q", first, again)
		}
	}
}

// No shell reads the argv, so nothing needs quoting: each hostile string
// must arrive as one argv element, as it was.
func TestHostileStringsStayWhole(t *testing.T) {
	tk := cwlTask()
	hostile := []string{"a b", "$(touch /pwned)", "`id`", "x; rm -rf /", "it's", `"quoted"x`, "new\nline", "--bind=/:/x", ""}
	tk.Argv = append([]string{"printf", "%s\n"}, hostile...)
	tk.Env["HOSTILE"] = "$(touch /pwned); `id` 'q' a b"
	tk.Env["WITH_COMMA"] = "-L/lib -Wl,-rpath,/lib"
	argv, _, err := Command(modern, tk)
	if err != nil {
		t.Fatal(err)
	}
	if tail := argv[len(argv)-len(hostile):]; !slices.Equal(tail, hostile) {
		t.Errorf("the command's arguments arrived as %q, want %q", tail, hostile)
	}
	for _, kv := range []string{"HOSTILE=" + tk.Env["HOSTILE"], "WITH_COMMA=" + tk.Env["WITH_COMMA"]} {
		i := slices.Index(argv, kv)
		if i < 1 || argv[i-1] != "--env" {
			t.Errorf("%q is not one argv element after --env in %q", kv, argv)
		}
	}
}

func TestPathsTheBindSyntaxCannotCarryAreRefused(t *testing.T) {
	for name, m := range map[string]executors.Mount{
		"colon in source": {Source: "/host/a:b", Target: "/in/x"},
		"colon in target": {Source: "/host/ab", Target: "/in/a:b"},
		"comma in source": {Source: "/host/a,b", Target: "/in/x"},
		"relative source": {Source: "host/ab", Target: "/in/x"},
		"target is root":  {Source: "/host/ab", Target: "/"},
	} {
		tk := cwlTask()
		tk.Mounts = append(tk.Mounts, m)
		_, _, err := Command(modern, tk)
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(m.Source+m.Target, ":") && !strings.Contains(err.Error(), "cannot carry a ':'") {
			t.Errorf("%s: the error %q does not say why", name, err)
		}
	}
}

func TestEnvValuesTheRuntimeWouldAlterAreRefused(t *testing.T) {
	for _, v := range []string{`ends in a quote"`, "a=b,c", `a=b"c`, "a=b\nc"} {
		tk := cwlTask()
		tk.Env["V"] = v
		if _, _, err := Command(modern, tk); err == nil || !strings.Contains(err.Error(), "V") {
			t.Errorf("V=%q: err = %v, want a refusal naming V", v, err)
		}
	}
	for _, v := range []string{"a,b", "a\nb", `"a"b`, "x=y", "$HOME", ""} {
		tk := cwlTask()
		tk.Env["V"] = v
		if _, _, err := Command(modern, tk); err != nil {
			t.Errorf("V=%q survives the --env parser, but was refused: %v", v, err)
		}
	}
	tk := cwlTask()
	tk.Env["BAD-NAME"] = "x"
	if _, _, err := Command(modern, tk); err == nil {
		t.Error("an environment variable name with '-' was accepted")
	}
}

// Runtimes without --no-eval evaluate --env values in a shell: a value it
// would change is refused, a plain one is passed, and no --no-eval flag
// is given to a runtime that does not know it.
func TestOldRuntimes(t *testing.T) {
	tk := cwlTask()
	argv, _, err := Command(old, tk)
	if err != nil || slices.Contains(argv, "--no-eval") {
		t.Errorf("old runtime: %q, %v; want no --no-eval", argv, err)
	}
	tk.Env["V"] = "$(id)"
	if _, _, err := Command(old, tk); err == nil || !strings.Contains(err.Error(), "shell") {
		t.Errorf("old runtime, V=$(id): err = %v, want a refusal", err)
	}
}

func TestWorkingDirectoryAndImage(t *testing.T) {
	tk := cwlTask()
	tk.Dir = "/var/spool/cwl/sub"
	if _, hostDir, err := Command(modern, tk); err != nil || hostDir != "/host/out/sub" {
		t.Errorf("Dir below a mount: hostDir %q, %v; want /host/out/sub", hostDir, err)
	}
	tk.Dir = "/elsewhere"
	if _, _, err := Command(modern, tk); err == nil || !strings.Contains(err.Error(), "working directory") {
		t.Errorf("Dir outside every mount: err = %v", err)
	}
	for _, image := range []string{"", "busybox.sif", "docker://busybox"} {
		tk := cwlTask()
		tk.Image = image
		if _, _, err := Command(modern, tk); err == nil {
			t.Errorf("image %q was accepted", image)
		}
	}
}

func TestHome(t *testing.T) {
	tk := cwlTask()
	delete(tk.Env, "HOME")
	argv, _, _ := Command(modern, tk)
	if !slices.Contains(argv, "--no-home") || !slices.Contains(argv, "/host/out:/var/spool/cwl") {
		t.Errorf("no HOME: %q; want --no-home and the outdir as a plain bind", argv)
	}
	tk.Env["HOME"] = "/var/spool/cwl/home"
	argv, _, _ = Command(modern, tk)
	if i := slices.Index(argv, "--home"); i < 0 || argv[i+1] != "/host/out/home:/var/spool/cwl/home" {
		t.Errorf("HOME below the outdir: %q", argv)
	}
	for _, h := range []string{"/var/lib/cwl/stg1/data.txt", "/root"} {
		tk.Env["HOME"] = h
		if _, _, err := Command(modern, tk); err == nil || !strings.Contains(err.Error(), "HOME") {
			t.Errorf("HOME=%s (read-only or unmounted): err = %v", h, err)
		}
	}
}

// An Argv[0] starting with '-' is arguments for the image's entrypoint,
// as `docker run` would pass them: the runtime's `run` executes the
// runscript that holds it, with every other flag as for exec.
func TestArgumentsForTheEntrypointUseRun(t *testing.T) {
	tk := cwlTask()
	tk.Argv = []string{"-c", "echo 'moo' > cow"}
	argv, _, err := Command(modern, tk)
	if err != nil {
		t.Fatal(err)
	}
	tk.Argv = []string{"sh", "-c", "echo 'moo' > cow"}
	execArgv, _, _ := Command(modern, tk)
	if argv[2] != "run" || execArgv[2] != "exec" {
		t.Fatalf("verbs %q and %q, want run for Argv[0] %q and exec for %q", argv[2], execArgv[2], "-c", "sh")
	}
	if !slices.Equal(argv[3:], append(slices.Clone(execArgv[3:len(execArgv)-3]), "-c", "echo 'moo' > cow")) {
		t.Errorf("run's flags or arguments differ from exec's:\n  %q\n  %q", argv, execArgv)
	}
	for _, first := range []string{"--version", "-"} {
		tk.Argv = []string{first}
		if argv, _, _ := Command(modern, tk); argv[2] != "run" {
			t.Errorf("Argv[0] %q: verb %q, want run", first, argv[2])
		}
	}
	for _, first := range []string{"sh", "./-x", "/bin/-x"} {
		tk.Argv = []string{first}
		if argv, _, _ := Command(modern, tk); argv[2] != "exec" {
			t.Errorf("Argv[0] %q: verb %q, want exec", first, argv[2])
		}
	}
}
