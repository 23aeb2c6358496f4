package provenance

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// States a run is shown in but never recorded as: a record says running
// until the flow process writes how it ended, so a process that was
// killed (kill -9, power loss) leaves it running for ever. The process
// identity in the record (Process) tells readers the truth.
const (
	RunDied    RunState = "died"    // the flow process that ran it is gone
	RunUnknown RunState = "unknown" // it ran on another machine, which this one cannot look into
)

// Process identifies the flow process running a run. A pid alone is not
// enough: pids are reused, so the kernel's start time of the process (in
// clock ticks since boot) and the boot it belongs to must match too.
type Process struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`          // field 22 of /proc/PID/stat
	Boot  string `json:"boot,omitempty"` // /proc/sys/kernel/random/boot_id
}

// ThisProcess identifies the calling process; nil where /proc cannot say
// (not Linux), in which case runs are shown as recorded.
func ThisProcess() *Process {
	pid := os.Getpid()
	start, err := processStart(pid)
	if err != nil {
		return nil
	}
	return &Process{PID: pid, Start: start, Boot: bootID()}
}

// processStart reads a process's start time from /proc/PID/stat, or an
// error for a process that has ended (a zombie included). The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func processStart(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat is not in the expected form", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	const startField = 22 - 3 // fields after ')' begin with field 3
	if len(fields) <= startField {
		return 0, fmt.Errorf("/proc/%d/stat is not in the expected form", pid)
	}
	if state := fields[0]; state == "Z" || state == "X" {
		// A zombie has ended; only its parent has not collected it yet.
		return 0, fmt.Errorf("process %d has ended", pid)
	}
	return strconv.ParseUint(fields[startField], 10, 64)
}

func bootID() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// Alive says what became of a run recorded as running: RunRunning while
// the process that records it lives, RunDied once it is gone, RunUnknown
// when it ran on another host (a database on a shared file system), or
// as another user where /proc hides other users' processes, whose
// processes this one cannot see. Other states, and runs recorded
// before flow kept the process's identity, are returned as recorded.
func (r *Run) Alive(host string) RunState {
	if r.State != RunRunning || r.Process == nil {
		return r.State
	}
	if r.Host != "" && host != "" && r.Host != host {
		return RunUnknown
	}
	p := r.Process
	if p.Boot != "" {
		if b := bootID(); b != "" && b != p.Boot {
			return RunDied // the machine restarted since
		}
	}
	start, err := processStart(p.PID)
	switch {
	case err != nil && r.User != "" && r.User != currentUser() && procHidesOthers():
		return RunUnknown // /proc shows this user none of another's processes
	case err != nil || start != p.Start:
		return RunDied // no such process, or another that took its pid
	}
	return RunRunning
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// procHidesOthers reports whether /proc is mounted with hidepid, under
// which another user's processes look as if they did not exist.
func procHidesOthers() bool {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[1] != "/proc" || f[2] != "proc" {
			continue
		}
		for _, opt := range strings.Split(f[3], ",") {
			if v, ok := strings.CutPrefix(opt, "hidepid="); ok && v != "0" && v != "off" {
				return true
			}
		}
	}
	return false
}
