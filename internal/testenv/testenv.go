// Package testenv holds the one rule for integration tests whose real
// component (a Slurm cluster, an sshd, a container runtime) is missing:
// on a developer's machine the test skips, saying how to get the
// component; in CI, where FLOW_REQUIRE_INTEGRATION=1, it fails instead, so
// a broken setup cannot pass as a run of skipped tests.
//
// It also holds what the tests that run flow's own binaries share:
// building them (RunWithBinaries) and comparing output objects
// (OutputChecksums).
package testenv

import (
	"os"
	"testing"
)

// RequireVar is the environment variable that turns skips into failures.
const RequireVar = "FLOW_REQUIRE_INTEGRATION"

// Required reports whether integration tests must run here (CI).
func Required() bool { return os.Getenv(RequireVar) == "1" }

// SkipOrFail ends the test because msg says what is missing: t.Skip
// normally, t.Fatal when integration tests are required.
func SkipOrFail(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=1, so this is a failure, not a skip)", msg, RequireVar)
		return
	}
	t.Skip(msg)
}
