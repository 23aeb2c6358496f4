package local

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// nsInitArg0 is the whole command line of the job namespace's init: flow's
// own executable, run again. Nothing else runs a program under this name,
// and the init also checks that it is PID 1 of a namespace.
const nsInitArg0 = "flow-jobs-init"

// nsInitFD is the init's end of the socket to flow.
const nsInitFD = 3

// The init is this package's code in flow's executable, so it is reached
// from whatever binary links the local executor (flow, its tests), before
// that binary's main runs and without its cooperation.
func init() {
	if len(os.Args) == 1 && os.Args[0] == nsInitArg0 && os.Getpid() == 1 {
		os.Exit(runNsInit())
	}
}

// nsInit is the state of the init: the tasks it started, by their pid in
// the namespace, and the socket to flow.
type nsInit struct {
	conn *nsConn

	mu    sync.Mutex // held while starting and while reaping, so a fast exit is never taken for an orphan
	tasks map[int]uint64
	bySeq map[uint64]int
}

// runNsInit serves flow until flow's end of the socket closes, then
// returns, which ends the namespace and every process left in it.
func runNsInit() int {
	// Signals that would end a Go program are taken and dropped: PID 1
	// must not end because a task signalled it, and tasks get these back
	// at their default (a handled signal is reset on exec, an ignored one
	// would not be).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGVTALRM, syscall.SIGPROF, syscall.SIGXCPU, syscall.SIGXFSZ)
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)

	c, err := net.FileConn(os.NewFile(nsInitFD, "flow"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "flow-jobs-init: no socket to flow: %v\n", err)
		return 2
	}
	s := &nsInit{conn: &nsConn{c: c.(*net.UnixConn)}, tasks: map[int]uint64{}, bySeq: map[uint64]int{}}
	if err := s.conn.send(&nsMsg{Op: "ready"}); err != nil {
		return 2
	}
	go s.reap(chld)
	for {
		m, files, err := s.conn.recv()
		if err != nil {
			return 0 // flow is gone
		}
		switch m.Op {
		case "start":
			s.start(m, files)
		case "signal":
			s.signal(m.Seq, syscall.Signal(m.Sig))
			closeAll(files)
		default:
			closeAll(files)
		}
	}
}

// start runs a task in a process group of its own, with the three files
// flow sent, and tells flow its pid as flow sees it.
func (s *nsInit) start(m *nsMsg, files []int) {
	defer closeAll(files)
	reply := &nsMsg{Op: "started", Seq: m.Seq}
	if len(files) != 3 {
		reply.Err = fmt.Sprintf("the init got %d files for the task's stdin, stdout and stderr, not 3", len(files))
		s.conn.send(reply)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pidfd := -1
	attr := &syscall.ProcAttr{
		Dir:   m.Dir,
		Env:   m.Env,
		Files: []uintptr{uintptr(files[0]), uintptr(files[1]), uintptr(files[2])},
		Sys:   &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd},
	}
	pid, _, err := syscall.StartProcess(m.Path, m.Argv, attr)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			reply.Errno = int(errno)
		} else {
			reply.Err = err.Error()
		}
		s.conn.send(reply)
		return
	}
	// Read before the task can be reaped (s.mu is held), so the numbers
	// are this process's.
	reply.PID = pid
	if pidfd >= 0 {
		if host, err := pidfdPID(pidfd); err == nil {
			reply.PID = host
		}
		syscall.Close(pidfd)
	}
	reply.StartTicks, _ = processStartTicks(reply.PID)
	s.tasks[pid], s.bySeq[m.Seq] = m.Seq, pid
	s.conn.send(reply)
}

// pidfdPID reads the pid a pidfd stands for in the /proc this process
// sees, which is flow's: the init's own /proc is the one flow mounted.
func pidfdPID(fd int) (int, error) {
	f, err := os.Open("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no Pid line in the fdinfo of a pidfd")
}

// signal sends sig to a task's process group, if the task is still
// running: a task is reaped only under s.mu, so its pid is not reused.
func (s *nsInit) signal(seq uint64, sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pid, ok := s.bySeq[seq]; ok {
		syscall.Kill(-pid, sig)
	}
}

// reap collects every child that ended: a task's status goes to flow,
// together with the killing of whatever it left in its process group (as
// the executor does outside a namespace); an orphan that was reparented
// here is only reaped.
//
// The group is killed just after its leader is reaped. Its number stays
// taken while any member is left, and pids in a namespace are handed out
// in increasing order, so it names no other group.
func (s *nsInit) reap(chld <-chan os.Signal) {
	for range chld {
		s.mu.Lock()
		for {
			var ws syscall.WaitStatus
			var ru syscall.Rusage
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, &ru)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || pid <= 0 {
				break
			}
			seq, ok := s.tasks[pid]
			if !ok {
				continue
			}
			syscall.Kill(-pid, syscall.SIGKILL)
			delete(s.tasks, pid)
			delete(s.bySeq, seq)
			s.conn.send(&nsMsg{Op: "exit", Seq: seq, Status: int(ws), MaxRSS: maxRSSKiB(&ru),
				UserNsec: ru.Utime.Nano(), SysNsec: ru.Stime.Nano()})
		}
		s.mu.Unlock()
	}
}
