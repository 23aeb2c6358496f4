package local

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// physicalMemoryMiB reads MemTotal from /proc/meminfo.
func physicalMemoryMiB() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// MemTotal:       24684084 kB
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			kib, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				break
			}
			return kib / 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/meminfo has no MemTotal line in kB")
}

// readBootID identifies this boot of the machine: a pid and start time
// identify a process only within one boot.
func readBootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return string(bytes.TrimSpace(b)), err
}

// processStat reads a process's state letter and start time (in clock
// ticks since boot) from /proc/PID/stat.
func processStat(pid int) (state byte, startTicks uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseStat(b)
}

// parseStat reads the state and start time from the text of a
// /proc/PID/stat file.
func parseStat(b []byte) (state byte, startTicks uint64, err error) {
	// "pid (comm) S ppid ...": comm may hold spaces and parentheses, so
	// the fields start after the last ')'. State is field 3, starttime 22.
	i := bytes.LastIndexByte(b, ')')
	fields := strings.Fields(string(b[i+1:]))
	if i < 0 || len(fields) < 20 {
		return 0, 0, fmt.Errorf("cannot parse a /proc/PID/stat line: %.60q", b)
	}
	startTicks, err = strconv.ParseUint(fields[19], 10, 64)
	return fields[0][0], startTicks, err
}

func processStartTicks(pid int) (uint64, error) {
	_, ticks, err := processStat(pid)
	return ticks, err
}

// sameProcess reports whether pid is still the running (not zombie)
// process that started at startTicks.
func sameProcess(pid int, startTicks uint64) bool {
	state, ticks, err := processStat(pid)
	return err == nil && ticks == startTicks && state != 'Z' && state != 'X'
}
