package local

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"syscall"
)

// nsMsg is one message between flow and the init of its job namespace,
// over a Unix stream socket: a 4-byte big-endian length, then JSON. A
// "start" carries the task's stdin, stdout and stderr as SCM_RIGHTS with
// its first byte.
type nsMsg struct {
	Op  string `json:"op"`            // flow to init: start, signal; init to flow: ready, started, exit
	Seq uint64 `json:"seq,omitempty"` // the task, numbered by flow

	// start
	Path string   `json:"path,omitempty"`
	Argv []string `json:"argv,omitempty"`
	Env  []string `json:"env,omitempty"`
	Dir  string   `json:"dir,omitempty"`

	// signal
	Sig int `json:"sig,omitempty"`

	// started: the task's pid and start time as flow's /proc shows them,
	// or why it could not start (an errno from execve, else a sentence)
	PID        int    `json:"pid,omitempty"`
	StartTicks uint64 `json:"start_ticks,omitempty"`
	Errno      int    `json:"errno,omitempty"`
	Err        string `json:"err,omitempty"`

	// exit: the wait status and resource usage of the task's process
	Status   int   `json:"status,omitempty"`
	MaxRSS   int64 `json:"max_rss,omitempty"`
	UserNsec int64 `json:"user_ns,omitempty"`
	SysNsec  int64 `json:"sys_ns,omitempty"`
}

// maxNsMsg bounds a message, well above the kernel's limit on a command
// line and environment, so a corrupt length cannot make flow allocate
// without bound.
const maxNsMsg = 64 << 20

// nsConn frames messages on the socket, a blocking file descriptor read
// and written with plain system calls: the spawner serves tasks from one
// loop with no goroutine in between. Writes may come from several
// goroutines; reads from one.
type nsConn struct {
	fd  int
	wmu sync.Mutex
}

func (n *nsConn) send(m *nsMsg, files ...int) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	b := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(b, uint32(len(body)))
	copy(b[4:], body)
	var oob []byte
	if len(files) > 0 {
		oob = syscall.UnixRights(files...)
	}
	n.wmu.Lock()
	defer n.wmu.Unlock()
	var w int
	// MSG_NOSIGNAL: a closed other end is an error here, not a SIGPIPE.
	err = ignoringEINTR(func() (err error) { w, err = syscall.SendmsgN(n.fd, b, oob, nil, syscall.MSG_NOSIGNAL); return err })
	for err == nil && w < len(b) { // a stream socket may take part of it
		var k int
		err = ignoringEINTR(func() (err error) { k, err = syscall.SendmsgN(n.fd, b[w:], nil, nil, syscall.MSG_NOSIGNAL); return err })
		w += k
	}
	return err
}

// recv reads one message and the files that came with it, which the
// caller must close. The end of the stream is io.EOF.
func (n *nsConn) recv() (*nsMsg, []int, error) {
	var hdr [4]byte
	oob := make([]byte, syscall.CmsgSpace(3*4))
	var h, oobn int
	err := ignoringEINTR(func() (err error) {
		h, oobn, _, _, err = syscall.Recvmsg(n.fd, hdr[:], oob, syscall.MSG_CMSG_CLOEXEC)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if h == 0 {
		return nil, nil, io.EOF
	}
	files, err := unixRights(oob[:oobn])
	if err != nil {
		return nil, nil, err
	}
	if err := n.readFull(hdr[h:]); err != nil {
		closeAll(files)
		return nil, nil, err
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > maxNsMsg {
		closeAll(files)
		return nil, nil, fmt.Errorf("a message of %d bytes on the job namespace's socket", size)
	}
	body := make([]byte, size)
	if err := n.readFull(body); err != nil {
		closeAll(files)
		return nil, nil, err
	}
	var m nsMsg
	if err := json.Unmarshal(body, &m); err != nil {
		closeAll(files)
		return nil, nil, err
	}
	return &m, files, nil
}

func (n *nsConn) readFull(b []byte) error {
	for len(b) > 0 {
		var k int
		err := ignoringEINTR(func() (err error) { k, err = syscall.Read(n.fd, b); return err })
		if err != nil {
			return err
		}
		if k == 0 {
			return io.ErrUnexpectedEOF
		}
		b = b[k:]
	}
	return nil
}

// hangUp ends the connection both ways: a recv blocked on it returns, and
// the other end reads EOF.
func (n *nsConn) hangUp() { syscall.Shutdown(n.fd, syscall.SHUT_RDWR) }

func unixRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []int
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			closeAll(files)
			return nil, err
		}
		files = append(files, fds...)
	}
	return files, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}
