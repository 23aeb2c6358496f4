// Package siftest is test support only: nothing that ships imports it.
//
// It makes real SIF container images and a container runtime to run them
// with, so that the Singularity layer (executors/singularity) is tested end
// to end rather than against a mock of its own assumptions.
//
// Build packs a tiny root file system (busybox-static and its applets, an
// /etc/passwd, any marker files a test wants) into a squashfs partition
// inside a SIF file, the format Singularity and Apptainer run.
//
// Runtime returns a program that behaves as `singularity` for the subset
// of commands flow uses. Debian packages neither Singularity nor Apptainer,
// so by default it is a stand-in (package fakesingularity, built on first
// use) that extracts the image with unsquashfs and runs the command with
// bubblewrap. With FLOW_TEST_REAL_RUNTIME=1 the same tests run against a
// real apptainer or singularity from PATH instead, which keeps the stand-in
// honest: a test that only passes against the stand-in is a bug in one of
// them.
package siftest
