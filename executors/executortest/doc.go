// Package executortest is the conformance suite every executor passes.
//
// An executor's own tests call Run with a constructor:
//
//	func TestConformance(t *testing.T) {
//		executortest.Run(t, func(t *testing.T) executors.Executor {
//			ex, err := local.New(local.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return ex
//		})
//	}
//
// The suite runs real commands (sh, cat, env, sleep from /usr/bin:/bin) in
// directories from t.TempDir, so an executor under test must see the test's
// file system at the same paths: true of the local executor, and of a
// cluster executor whose nodes share the test's temporary directory.
//
// Every subtest checks behaviour a user depends on: exit codes and
// signals, where stdin, stdout and stderr go, an environment that is
// exactly the task's, the working directory, stopping a task (time limit,
// Wait's ctx, Cancel) including the children it started, a missing command
// reported as ErrNotFound, handles that survive JSON, and many tasks at
// once.
package executortest
