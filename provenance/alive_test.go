package provenance

import (
	"os"
	"testing"
)

func TestAlive(t *testing.T) {
	me := ThisProcess()
	if me == nil {
		t.Skip("no /proc: process identity is not recorded here")
	}
	host, _ := os.Hostname()
	reused := *me
	reused.Start++ // the pid now belongs to a process started at another time
	rebooted := *me
	rebooted.Boot = "another-boot"
	gone := *me
	gone.PID = 1 << 30 // above pid_max: no such process
	for _, c := range []struct {
		name string
		run  Run
		want RunState
	}{
		{"alive", Run{State: RunRunning, Host: host, Process: me}, RunRunning},
		{"pid reused", Run{State: RunRunning, Host: host, Process: &reused}, RunDied},
		{"rebooted", Run{State: RunRunning, Host: host, Process: &rebooted}, RunDied},
		{"gone", Run{State: RunRunning, Host: host, Process: &gone}, RunDied},
		{"other host", Run{State: RunRunning, Host: host + "-elsewhere", Process: &gone}, RunUnknown},
		{"recorded without a process", Run{State: RunRunning, Host: host}, RunRunning},
		{"finished", Run{State: RunFailed, Host: host, Process: &gone}, RunFailed},
	} {
		if got := c.run.Alive(host); got != c.want {
			t.Errorf("%s: Alive = %q, want %q", c.name, got, c.want)
		}
	}
}
