package local

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/flow-cwl/flow/executors"
)

// jobNamespace is flow's side of the PID namespace its tasks run in: the
// socket to its spawner, and the tasks started through it.
type jobNamespace struct {
	conn  *nsConn
	pid   int           // the init, as flow sees it
	ended chan struct{} // closed once the init has ended and been reaped

	mu    sync.Mutex
	seq   uint64
	tasks map[uint64]*nsTask
	gone  error // why the init ended; set once
}

// nsTask is a task started through the spawner: its start reply and its
// end arrive on these channels, which are closed if the namespace ends
// first.
type nsTask struct {
	seq     uint64
	started chan *nsMsg
	exit    chan *nsMsg
}

// startNamespace starts the init of a new PID namespace, with a mount
// namespace for its own /proc: flow's own executable, which this
// package's init function turns into the init. As root that is all it
// needs; otherwise (or where root may not) the init also gets a user
// namespace in which it is root, and hands tasks one in which the user is
// themself again.
func startNamespace() (*jobNamespace, error) {
	var errs []error
	for _, how := range namespaceWays() {
		ns, err := tryNamespace(how.sys, how.args)
		if err == nil {
			return ns, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// namespaceWays is namespaceAttrs, but for tests that make every way fail.
var namespaceWays = namespaceAttrs

type nsAttrs struct {
	sys  *syscall.SysProcAttr
	args []string // the init's, after its name
}

// namespaceAttrs are the ways to make the namespace, in order of
// preference.
func namespaceAttrs() []nsAttrs {
	base := func(flags uintptr) *syscall.SysProcAttr {
		// Its own process group, so a Ctrl-C at the terminal reaches flow
		// (which stops its tasks with SIGTERM) and not the init.
		return &syscall.SysProcAttr{Cloneflags: flags | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	withUser := base(syscall.CLONE_NEWUSER)
	uid, gid := os.Getuid(), os.Getgid()
	withUser.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
	withUser.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
	user := nsAttrs{withUser, []string{strconv.Itoa(uid), strconv.Itoa(gid)}}
	if os.Geteuid() == 0 {
		return []nsAttrs{{base(0), nil}, user}
	}
	return []nsAttrs{user}
}

// tryNamespace starts the init one way, and waits for its spawner to say
// it is ready (or for the init to say why not).
func tryNamespace(sys *syscall.SysProcAttr, args []string) (*jobNamespace, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	// Ours stays open for as long as flow runs (one per namespace): closed,
	// its number could be reused under a late send. Shutting it down is
	// what ends the namespace.
	theirs := os.NewFile(uintptr(fds[1]), "jobs-init")
	ended := make(chan struct{})
	pid, err := spawnInit(theirs, sys, args, ended)
	theirs.Close()
	conn := &nsConn{fd: fds[0]}
	if err != nil {
		syscall.Close(fds[0])
		return nil, err
	}
	ns := &jobNamespace{conn: conn, pid: pid, ended: ended, tasks: map[uint64]*nsTask{}}
	m, files, err := ns.conn.recv()
	closeAll(files)
	switch {
	case err != nil:
		err = fmt.Errorf("the init of the job namespace ended before it was ready (%v)", err)
	case m.Op == "failed":
		err = errors.New(m.Err)
	case m.Op != "ready":
		err = fmt.Errorf("the init of the job namespace said %q", m.Op)
	}
	if err != nil {
		syscall.Close(fds[0]) // the init ends when it reads EOF, if it got that far
		return nil, err
	}
	go ns.read()
	return ns, nil
}

// spawnInit starts the init from a goroutine locked to its thread, which
// then waits for the init to end. The kernel sends the parent-death
// signal when the thread that started a process ends, not when the whole
// process does; this thread lives as long as the init, so the init dies
// with flow and only with flow. ended is closed once the init is reaped.
func spawnInit(sock *os.File, sys *syscall.SysProcAttr, args []string, ended chan<- struct{}) (int, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	type started struct {
		pid int
		err error
	}
	ch := make(chan started, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		attr := &syscall.ProcAttr{
			Env:   []string{"GOMAXPROCS=1"},
			Files: []uintptr{null.Fd(), null.Fd(), os.Stderr.Fd(), sock.Fd()},
			Sys:   sys,
		}
		pid, _, err := syscall.StartProcess("/proc/self/exe", append([]string{nsInitArg0}, args...), attr)
		if err != nil {
			err = fmt.Errorf("starting a process in a new PID namespace (clone flags %#x): %w", sys.Cloneflags, err)
		}
		ch <- started{pid, err}
		if err != nil {
			return
		}
		var ws syscall.WaitStatus
		ignoringEINTR(func() error { _, err := syscall.Wait4(pid, &ws, 0, nil); return err })
		close(ended)
	}()
	s := <-ch
	return s.pid, s.err
}

// read delivers the spawner's replies. When the socket ends, the spawner,
// the init and every task in the namespace are gone: the tasks' waits are
// released.
func (ns *jobNamespace) read() {
	for {
		m, files, err := ns.conn.recv()
		closeAll(files)
		if err != nil {
			ns.mu.Lock()
			ns.gone = fmt.Errorf("the tasks' PID namespace (its init: pid %d) ended: %v", ns.pid, err)
			for _, t := range ns.tasks {
				close(t.started)
				close(t.exit)
			}
			ns.tasks = nil
			ns.mu.Unlock()
			ns.conn.hangUp()
			return
		}
		ns.mu.Lock()
		t := ns.tasks[m.Seq]
		switch {
		case t == nil:
		case m.Op == "started":
			t.started <- m
		case m.Op == "exit":
			t.exit <- m
			delete(ns.tasks, m.Seq)
		}
		ns.mu.Unlock()
	}
}

// start has the spawner start a task with the given stdin, stdout and
// stderr, and returns the task with its pid and start time as flow sees
// them. An execve failure comes back as its errno, as from StartProcess.
func (ns *jobNamespace) start(path string, argv, env []string, dir string, files [3]*os.File) (*nsTask, *nsMsg, error) {
	ns.mu.Lock()
	if ns.gone != nil {
		ns.mu.Unlock()
		return nil, nil, ns.gone
	}
	ns.seq++
	t := &nsTask{seq: ns.seq, started: make(chan *nsMsg, 1), exit: make(chan *nsMsg, 1)}
	ns.tasks[t.seq] = t
	ns.mu.Unlock()

	req := &nsMsg{Op: "start", Seq: t.seq, Path: path, Argv: argv, Env: env, Dir: dir}
	err := ns.conn.send(req, int(files[0].Fd()), int(files[1].Fd()), int(files[2].Fd()))
	runtime.KeepAlive(files)
	if err != nil {
		ns.forget(t)
		return nil, nil, fmt.Errorf("cannot reach the spawner of the tasks' PID namespace: %w", err)
	}
	m, ok := <-t.started
	if !ok {
		return nil, nil, ns.err()
	}
	switch {
	case m.Errno != 0:
		ns.forget(t)
		return nil, nil, syscall.Errno(m.Errno)
	case m.Err != "":
		ns.forget(t)
		return nil, nil, errors.New(m.Err)
	}
	return t, m, nil
}

func (ns *jobNamespace) forget(t *nsTask) {
	ns.mu.Lock()
	if ns.tasks != nil {
		delete(ns.tasks, t.seq)
	}
	ns.mu.Unlock()
}

func (ns *jobNamespace) err() error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.gone
}

// alive reports whether the namespace is still there to start tasks.
func (ns *jobNamespace) alive() bool { return ns.err() == nil }

// signal asks the spawner to send sig to the task's process group; it
// does nothing if the task has already been reaped.
func (ns *jobNamespace) signal(t *nsTask, sig syscall.Signal) {
	_ = ns.conn.send(&nsMsg{Op: "signal", Seq: t.seq, Sig: int(sig)}) // fails only if the namespace, and so the task, is gone
}

// wait blocks until the task ends and returns its wait status and usage.
func (ns *jobNamespace) wait(t *nsTask) (syscall.WaitStatus, syscall.Rusage, error) {
	m, ok := <-t.exit
	if !ok {
		return 0, syscall.Rusage{}, ns.err()
	}
	ru := syscall.Rusage{
		Maxrss: m.MaxRSS,
		Utime:  syscall.NsecToTimeval(m.UserNsec),
		Stime:  syscall.NsecToTimeval(m.SysNsec),
	}
	return syscall.WaitStatus(m.Status), ru, nil
}

// Close ends the executor's PID namespace, and so every process still in
// it (a task's leftovers that called setsid), and waits a little for the
// kernel to clear it: when flow returns, nothing it started runs on, and
// the CPU time of its tasks counts in flow's own (as a shell's time
// shows it). Tasks started afterwards get a new namespace.
func (e *Executor) Close() error {
	e.nsMu.Lock()
	ns := e.ns
	e.ns = nil
	e.nsMu.Unlock()
	if ns == nil {
		return nil
	}
	ns.conn.hangUp() // the spawner reads EOF and ends, and with it the init
	select {
	case <-ns.ended:
	case <-time.After(closeWait):
		// A process stuck in the kernel (a hung NFS read) holds the
		// namespace; it goes once it can, flow need not wait for it.
	}
	return nil
}

// closeWait bounds how long Close waits for the namespace to be cleared.
const closeWait = 5 * time.Second

// namespaceFor returns the executor's job namespace, starting it on first
// use and again if its init ended. Nil means tasks run as flow's direct
// children: the executor was told so, or no namespace can be made here,
// which is logged once.
func (e *Executor) namespaceFor() *jobNamespace {
	if e.opts.SharedPIDNamespace {
		return nil
	}
	e.nsMu.Lock()
	defer e.nsMu.Unlock()
	if e.nsFailed || (e.ns != nil && e.ns.alive()) {
		return e.ns
	}
	began := time.Now()
	ns, err := startNamespace()
	if err != nil {
		e.nsFailed, e.ns = true, nil
		e.log.Warn().Err(err).Msg("tasks cannot run in a PID namespace of their own here, so a task's processes that leave its process group (setsid) may outlive a killed flow")
		return nil
	}
	e.log.Debug().Int("init_pid", ns.pid).Dur("took", time.Since(began)).Msg("tasks run in a PID namespace of their own")
	e.ns = ns
	return ns
}

// startInNamespace starts the task through the namespace's spawner.
func (p *proc) startInNamespace(ns *jobNamespace, t *executors.Task, path string, fds *stdio) error {
	task, m, err := ns.start(path, t.Argv, environ(t.Env), t.Dir, [3]*os.File{fds.stdin, fds.stdout, fds.stderr})
	if err != nil {
		return err
	}
	p.ns, p.nsTask, p.pid, p.startTicks = ns, task, m.PID, m.StartTicks
	return nil
}
