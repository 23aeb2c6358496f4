package local

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The namespace holds two processes of flow's own executable, run again
// under these names (nothing else runs a program so named, and each checks
// where it runs):
//
//   - the init, PID 1 of the namespace: it mounts the namespace's own
//     /proc, starts the spawner, reaps the orphans that the kernel
//     reparents to it, and ends when the spawner ends, which ends the
//     namespace;
//   - the spawner, its child: it starts, signals and reaps tasks for
//     flow, over the socket.
//
// Two processes, because the init must be root in its user namespace to
// mount /proc, and tasks must not be: the spawner runs in a nested user
// namespace where the user is themself again, without capabilities.
const (
	nsInitArg0    = "flow-jobs-init"
	nsSpawnerArg0 = "flow-jobs-spawner"
)

// The files the init and the spawner start with, after stdin, stdout and
// stderr.
const (
	nsSockFD     = 3 // the socket to flow
	nsHostProcFD = 4 // the spawner's: flow's /proc, where pids are flow's
)

// Both are this package's code in flow's executable, so they are reached
// from whatever binary links the local executor (flow, its tests), before
// that binary's main runs and without its cooperation.
func init() {
	if len(os.Args) == 0 {
		return
	}
	switch {
	case os.Args[0] == nsInitArg0 && os.Getpid() == 1:
		os.Exit(runNsInit(os.Args[1:]))
	case os.Args[0] == nsSpawnerArg0 && len(os.Args) == 1 && os.Getppid() == 1:
		os.Exit(runSpawner())
	}
}

// dropSignals takes the signals that would end a Go program and drops
// them: neither process may end because a task signalled it (the whole
// namespace would go), and tasks get these signals at their default (a
// handled signal is reset on exec, an ignored one would not be).
func dropSignals() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGVTALRM, syscall.SIGPROF, syscall.SIGXCPU, syscall.SIGXFSZ)
}

// runNsInit is PID 1. args are empty when flow runs as root, else the
// user's uid and gid, for the spawner's user namespace.
func runNsInit(args []string) int {
	dropSignals()
	syscall.CloseOnExec(nsSockFD) // only the spawner gets it (Files clears the flag for it)
	pid, err := startSpawner(args)
	if err != nil {
		// Flow reads this instead of the spawner's "ready", and runs its
		// tasks without a namespace.
		(&nsConn{fd: nsSockFD}).send(&nsMsg{Op: "failed", Err: err.Error()})
		return 2
	}
	syscall.Close(nsSockFD) // the spawner's end of flow's socket is the only one
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || got == pid {
			return 0 // the spawner is gone: flow is, or soon will be
		}
	}
}

// startSpawner gives the namespace its own /proc (so a task's pid and
// /proc agree: /proc/$$ is itself, ps shows the run's processes) and
// starts the spawner.
func startSpawner(args []string) (int, error) {
	hostProc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	// Slave: mounts made on the machine still appear here; the /proc
	// mounted here appears nowhere else.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_SLAVE, ""); err != nil {
		return 0, fmt.Errorf("making the namespace's mounts private: %w", err)
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return 0, fmt.Errorf("mounting the namespace's /proc: %w", err)
	}
	sys := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if len(args) == 2 {
		uid, err1 := strconv.Atoi(args[0])
		gid, err2 := strconv.Atoi(args[1])
		if err := errors.Join(err1, err2); err != nil {
			return 0, err
		}
		sys.Cloneflags = syscall.CLONE_NEWUSER
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: 0, Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: 0, Size: 1}}
	}
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2, nsSockFD, uintptr(hostProc)},
		Sys:   sys,
	}
	pid, _, err := syscall.StartProcess("/proc/self/exe", []string{nsSpawnerArg0}, attr)
	syscall.Close(hostProc)
	if err != nil {
		return 0, fmt.Errorf("starting the spawner: %w", err)
	}
	return pid, nil
}

// spawner is the state of the spawner: the tasks it started, and the
// socket to flow. It serves both from one loop, on one goroutine.
type spawner struct {
	conn  *nsConn
	tasks map[uint64]*spawned // by flow's number
}

// spawned is a running task: its pid in the namespace, and a pidfd that
// becomes readable when it exits.
type spawned struct {
	seq   uint64
	pid   int
	pidfd int
}

// runSpawner serves flow until flow's end of the socket closes, then
// returns, which ends the init, the namespace and every process in it.
func runSpawner() int {
	dropSignals()
	// Tasks inherit only their three streams.
	syscall.CloseOnExec(nsSockFD)
	syscall.CloseOnExec(nsHostProcFD)
	s := &spawner{conn: &nsConn{fd: nsSockFD}, tasks: map[uint64]*spawned{}}
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		s.conn.send(&nsMsg{Op: "failed", Err: fmt.Sprintf("this kernel has no pidfds (Linux 5.3 or later): %v", err)})
		return 2
	}
	syscall.Close(fd)
	if err := s.conn.send(&nsMsg{Op: "ready"}); err != nil {
		return 2
	}
	for {
		fds := make([]unix.PollFd, 0, 1+len(s.tasks))
		fds = append(fds, unix.PollFd{Fd: nsSockFD, Events: unix.POLLIN})
		for _, t := range s.tasks {
			fds = append(fds, unix.PollFd{Fd: int32(t.pidfd), Events: unix.POLLIN})
		}
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return 2
		}
		for _, p := range fds[1:] {
			if p.Revents != 0 {
				s.finish(int(p.Fd))
			}
		}
		if fds[0].Revents != 0 {
			m, files, err := s.conn.recv()
			if err != nil {
				return 0 // flow is gone
			}
			s.serve(m, files)
		}
	}
}

func (s *spawner) serve(m *nsMsg, files []int) {
	switch m.Op {
	case "start":
		s.start(m, files)
	case "signal":
		// A task is reaped only here, so its pid (the group's id) is
		// not reused while it is in s.tasks.
		if t := s.tasks[m.Seq]; t != nil {
			syscall.Kill(-t.pid, syscall.Signal(m.Sig))
		}
		closeAll(files)
	default:
		closeAll(files)
	}
}

// start runs a task in a process group of its own, with the three files
// flow sent, and tells flow its pid as flow sees it.
func (s *spawner) start(m *nsMsg, files []int) {
	defer closeAll(files)
	reply := &nsMsg{Op: "started", Seq: m.Seq}
	if len(files) != 3 {
		reply.Err = fmt.Sprintf("the spawner got %d files for the task's stdin, stdout and stderr, not 3", len(files))
		s.conn.send(reply)
		return
	}
	pidfd := -1
	attr := &syscall.ProcAttr{
		Dir:   m.Dir,
		Env:   m.Env,
		Files: []uintptr{uintptr(files[0]), uintptr(files[1]), uintptr(files[2])},
		Sys:   &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd},
	}
	pid, _, err := syscall.StartProcess(m.Path, m.Argv, attr)
	if err == nil && pidfd < 0 {
		syscall.Kill(pid, syscall.SIGKILL)
		syscall.Wait4(pid, nil, 0, nil)
		err = errors.New("the spawner got no pidfd for a task")
	}
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
	// The task is not reaped before finish, so these are its numbers.
	// Flow knows tasks by the pid its own /proc shows.
	reply.PID = pid
	if host, err := pidfdPID(pidfd); err == nil {
		reply.PID = host
	}
	if b, err := readHostProc(strconv.Itoa(reply.PID) + "/stat"); err == nil {
		_, reply.StartTicks, _ = parseStat(b)
	}
	s.tasks[m.Seq] = &spawned{seq: m.Seq, pid: pid, pidfd: pidfd}
	s.conn.send(reply)
}

// finish collects the task whose pidfd became readable: whatever it left
// in its process group is killed first, as the executor does outside a
// namespace (the leader is not yet reaped, so the group's id is still
// its own), then its status and usage go to flow.
func (s *spawner) finish(pidfd int) {
	var t *spawned
	for _, c := range s.tasks {
		if c.pidfd == pidfd {
			t = c
		}
	}
	if t == nil {
		return
	}
	syscall.Kill(-t.pid, syscall.SIGKILL)
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	err := ignoringEINTR(func() error { _, err := syscall.Wait4(t.pid, &ws, 0, &ru); return err })
	syscall.Close(t.pidfd)
	delete(s.tasks, t.seq)
	if err != nil {
		return // cannot happen: the task is this process's child
	}
	s.conn.send(&nsMsg{Op: "exit", Seq: t.seq, Status: int(ws), MaxRSS: maxRSSKiB(&ru),
		UserNsec: ru.Utime.Nano(), SysNsec: ru.Stime.Nano()})
}

// pidfdPID reads the pid a pidfd stands for in flow's /proc.
func pidfdPID(fd int) (int, error) {
	b, err := readHostProc("self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no Pid line in the fdinfo of a pidfd")
}

// readHostProc reads a file of flow's /proc, which the init handed down.
func readHostProc(name string) ([]byte, error) {
	fd, err := unix.Openat(nsHostProcFD, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return io.ReadAll(f)
}
