// Package singularity runs tasks in SIF containers with Singularity or
// Apptainer, the container runtimes of HPC clusters.
//
// It is not an executor of its own but a layer over one: Wrap turns each
// Task that names an Image into a task that runs `singularity exec` (or
// `run`, below) on the host, and hands that to the inner executor (local
// processes, Slurm), which neither knows nor cares that a container is
// involved. Tasks without an Image pass through untouched.
//
// The engine describes a containerised task in container terms: Argv,
// Env, Dir and the streams name paths inside the container, and Mounts
// say which host paths appear where. Command turns that into the
// runtime's command line, modelled on cwltool's Singularity mode:
//
//	singularity --silent exec --containall --no-eval \
//	    --home <host outdir>:<HOME> --pwd <Dir> \
//	    --bind <src>:<dst>[:ro]... --env K=V... IMAGE ARGV...
//
// A task whose Argv[0] starts with '-' gets `run` instead of `exec`, with
// the same flags. Such an Argv names no program: it is arguments for the
// ENTRYPOINT of the Docker image the tool was written for (CWL's
// docker_entrypoint test: bash's image, baseCommand ["-c", "..."]). A SIF
// converted from a Docker image keeps its ENTRYPOINT and CMD in its
// runscript, which run executes with Argv as its arguments; in an image
// without a runscript, both runtimes pass them to /bin/sh.
//
// --silent, not --quiet: the runtime process's stderr is the tool's
// stderr (the container inherits it), so anything the runtime prints lands
// in the tool's output, in a file a CWL tool captures with `stderr:`.
// --quiet still lets WARNING lines through (SingularityCE warns, for one,
// when a bind replaces the image's /tmp, which every CWL task's does);
// --silent leaves only the runtime's errors, which mean the tool never ran.
// Every SingularityCE, Singularity 3 and Apptainer release has it.
//
// --containall gives the task fresh /tmp, IPC and PID namespaces and an
// environment that is exactly Task.Env plus what the runtime itself sets
// (PATH, HOME, its own variables): nothing of flow's environment leaks in,
// and when the task is stopped everything it started goes with it.
// Mounts are read-only unless Writable. HOME is given with --home because
// both runtimes refuse to take it from --env.
//
// Two runtime quirks shape what is refused rather than silently mangled:
// the --bind syntax cannot carry a ':' or ',' in a path, and --env values
// go through a flag parser that splits some of them at commas and strips
// quotes (and, in runtimes too old for --no-eval, through a shell). Such
// tasks fail with an error that says which value cannot be passed.
//
// The runtime process runs on the host, so the inner executor starts it in
// the host directory behind the task's working directory, opens the
// streams at their host paths, and gives it a small environment of flow's
// own (PATH, HOME, locale, the runtime's APPTAINER_/SINGULARITY_ settings).
//
// FindRuntime locates apptainer or singularity and reads its version,
// which decides whether --no-eval is available.
package singularity
