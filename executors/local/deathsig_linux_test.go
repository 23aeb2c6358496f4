package local

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/executors"
)

// TestTaskDiesWithFlow kills a process that started a task through the
// executor, the way a user's `kill -9` of flow would, and checks that the
// task does not live on unwatched.
func TestTaskDiesWithFlow(t *testing.T) {
	if os.Getenv("FLOW_TEST_DEATHSIG_CHILD") == "1" {
		deathsigChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTaskDiesWithFlow$")
	cmd.Env = append(os.Environ(), "FLOW_TEST_DEATHSIG_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the child did not report its task: %v", err)
	}
	pid, err := strconv.Atoi(line[:len(line)-1])
	if err != nil {
		t.Fatalf("bad pid line %q", line)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("task %d outlived the process that started it", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deathsigChild starts a long task, prints its pid and waits to be killed.
func deathsigChild() {
	ex, err := New(Options{Logger: zerolog.Nop()})
	if err != nil {
		os.Exit(2)
	}
	dir, _ := os.MkdirTemp("", "deathsig")
	h, err := ex.Start(context.Background(), &executors.Task{ID: "t", Argv: []string{"/bin/sleep", "60"}, Dir: dir, Env: map[string]string{}})
	if err != nil {
		os.Exit(3)
	}
	fmt.Println(h.PID)
	time.Sleep(time.Minute)
}
