// Package sandbox runs each task in a sandbox of its own on this machine,
// made by bubblewrap (bwrap): a small, setuid-free tool that builds a set
// of Linux namespaces from its arguments, as Flatpak uses it.
//
// A sandboxed task sees only its view (the Task's Mounts: its own output
// directory and tmpdir, writable; its inputs, read-only) and the system's
// read-only directories it needs to run programs (/usr, /bin, /lib*,
// /etc less every entry that not every user of the machine may read, and
// less whatever the caller hides). It has its own PID namespace, so /proc
// shows only its own processes and it can signal nothing outside, and
// when the task's first process goes every process in it goes too,
// including one that called setsid. It has no network unless the task
// asks for one (Task.Network, from CWL's NetworkAccess), and no
// capabilities, even when flow runs as root.
//
// The sandbox is a layer over another executor (the local one), like the
// Singularity layer: Wrap turns each task into the task that runs bwrap
// with the same command, directory, environment and streams. Its view is
// the identity (each mount at its own path), so paths in the command
// line, the environment and the streams stay as the engine wrote them.
// A step with an image runs its container runtime in the sandbox: the
// Singularity layer above this one turns the container task into the
// task that runs the runtime, naming the host paths it needs as mounts.
package sandbox
