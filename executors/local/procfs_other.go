//go:build unix && !linux

package local

import (
	"fmt"

	"github.com/flow-cwl/flow/executors"
)

// Without /proc, memory is not detected and processes cannot be recognised
// after a restart, so Recover reports ErrUnsupported.

func physicalMemoryMiB() (int64, error) {
	return 0, fmt.Errorf("reading physical memory size: %w", executors.ErrUnsupported)
}

func readBootID() (string, error) {
	return "", fmt.Errorf("reading boot id: %w", executors.ErrUnsupported)
}

func processStartTicks(pid int) (uint64, error) {
	return 0, fmt.Errorf("reading process start time: %w", executors.ErrUnsupported)
}

func sameProcess(pid int, startTicks uint64) bool { return false }
