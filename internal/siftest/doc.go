// Package siftest is test support only: nothing that ships imports it.
//
// It makes real SIF container images and a container runtime to run them
// with, so that the Singularity layer (executors/singularity) is tested end
// to end rather than against a mock of its own assumptions.
//
// Build packs a tiny root file system (busybox-static and its applets, an
// /etc/passwd, the mount points a real runtime needs such as /dev, /proc
// and /sys, any marker files a test wants) into a squashfs partition inside
// a SIF file, the format Singularity and Apptainer run.
//
// Debian packs a Debian root file system, built once with mmdebstrap from
// apt's mirror and kept between test runs, the stand-in for the Docker Hub
// images CWL's conformance tests name. StartRegistry runs a real registry
// (Debian's docker-registry) on a loopback address, plain HTTP or TLS with
// a CA made for the test; Push puts an image there with
// go-containerregistry, and the registry's access log tells how often it
// was pulled. RerunUnprivileged and Account run tests, or flow, again as
// an unprivileged user.
//
// Runtime returns the program to run them with: a real apptainer or
// singularity (on PATH, or SingularityCE where scripts/test unpacks it,
// /opt/singularity) once it has run a container here. Only where no real
// runtime can run does it fall back to a stand-in (package fakesingularity,
// built on first use) that extracts the image with unsquashfs and runs the
// command with bubblewrap; CI (FLOW_REQUIRE_INTEGRATION=1) never does, it
// fails instead. FLOW_TEST_REAL_RUNTIME=0 picks the stand-in outside CI, to
// check it against the same tests: a test that passes against only one of
// them is a bug in one of them.
package siftest
