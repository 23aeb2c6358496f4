package remote

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Config says how to reach one cluster.
type Config struct {
	Host string
	Port int // default 22
	User string

	KeyPath       string // private key file (OpenSSH or PEM format), may be encrypted
	KeyPassphrase []byte // passphrase for an encrypted KeyPath
	UseAgent      bool   // also offer the keys of the agent at $SSH_AUTH_SOCK

	KnownHosts string // known_hosts file; required, host keys are always verified

	Keepalive   time.Duration // interval of keepalive requests; default 15s
	DialTimeout time.Duration // TCP connect plus SSH handshake; default 10s

	// MaxSessions bounds the command sessions open at once on the
	// connection (the SFTP session is one more); default 8. It must stay
	// below the server's MaxSessions (OpenSSH: 10).
	MaxSessions int

	Logger zerolog.Logger
}

const (
	defaultKeepalive   = 15 * time.Second
	defaultDialTimeout = 10 * time.Second
	// defaultMaxSessions keeps concurrent commands under OpenSSH's default
	// MaxSessions of 10 per connection, leaving room for the SFTP session;
	// beyond it sshd refuses new sessions instead of queueing them.
	defaultMaxSessions = 8
)

// ErrClosed is returned by calls on a Client after Close.
var ErrClosed = errors.New("the remote client is closed")

// Client is one SSH connection to a cluster, shared by every call. It is
// safe for concurrent use; it redials by itself after the link drops.
type Client struct {
	cfg      Config
	addr     string // host:port
	log      zerolog.Logger
	ssh      *ssh.ClientConfig
	agent    net.Conn // open agent socket, if UseAgent found one
	dialSlot chan struct{}
	sessions chan struct{} // bounds concurrent Run sessions, see Config.MaxSessions

	mu     sync.Mutex
	cur    *link // nil before the first dial and after Close
	gen    uint64
	closed bool

	hashes  hashCache // SHA-1, for the input store
	digests hashCache // SHA-256, for images
	flights flightGroup

	// Counters for tests and `flow clusters status`.
	uploads    atomic.Int64
	keepalives atomic.Int64
	dials      atomic.Int64
	refusals   atomic.Int64 // session opens the server refused (and were retried)
	images     atomic.Int64 // images uploaded (verified and renamed into place)
	imageBytes atomic.Int64 // bytes of images sent
}

// Dial checks the configuration, loads the keys and the known hosts, and
// opens the connection. It fails at once rather than retrying: a first
// connection that fails is a configuration problem the user must see.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Host == "" || cfg.User == "" {
		return nil, errors.New("a remote cluster needs both a host and a user")
	}
	if cfg.Port == 0 {
		cfg.Port = 22
	}
	if cfg.Keepalive <= 0 {
		cfg.Keepalive = defaultKeepalive
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = defaultMaxSessions
	}
	c := &Client{cfg: cfg, addr: joinHostPort(cfg.Host, cfg.Port), dialSlot: make(chan struct{}, 1),
		digests:  hashCache{newHash: sha256.New},
		sessions: make(chan struct{}, cfg.MaxSessions)}
	c.log = cfg.Logger.With().Str("host", c.addr).Str("user", cfg.User).Logger()
	if err := c.configure(); err != nil {
		c.closeAgent()
		return nil, err
	}
	l, err := c.connect(ctx)
	if err != nil {
		c.closeAgent()
		return nil, err
	}
	c.mu.Lock()
	c.cur = l
	c.mu.Unlock()
	return c, nil
}

// configure builds the ssh.ClientConfig once; reconnects reuse it, so a key
// file that changes later does not surprise a running workflow.
func (c *Client) configure() error {
	hk, err := loadHostKeys(c.cfg.KnownHosts, c.addr)
	if err != nil {
		return err
	}
	signers, err := c.signers()
	if err != nil {
		return err
	}
	c.ssh = &ssh.ClientConfig{
		User:              c.cfg.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeysCallback(signers)},
		HostKeyCallback:   hk.callback,
		HostKeyAlgorithms: hk.algorithms,
		Timeout:           c.cfg.DialTimeout,
	}
	return nil
}

// signers returns the function that lists the keys to offer: the key file
// first, then the agent's keys, asked afresh at each login so that keys
// added to the agent later are found.
func (c *Client) signers() (func() ([]ssh.Signer, error), error) {
	var fixed []ssh.Signer
	if c.cfg.KeyPath != "" {
		s, err := loadKey(c.cfg.KeyPath, c.cfg.KeyPassphrase)
		if err != nil {
			return nil, err
		}
		fixed = append(fixed, s)
	}
	var ag agent.ExtendedAgent
	if c.cfg.UseAgent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			c.log.Warn().Msg("use of the ssh agent is configured but SSH_AUTH_SOCK is not set")
		} else if conn, err := net.Dial("unix", sock); err != nil {
			c.log.Warn().Err(err).Msg("cannot reach the ssh agent; continuing without it")
		} else {
			c.agent = conn
			ag = agent.NewClient(conn)
		}
	}
	if len(fixed) == 0 && ag == nil {
		return nil, fmt.Errorf("no SSH key to log in to %s: set a key file or use a running ssh agent", c.addr)
	}
	return func() ([]ssh.Signer, error) {
		if ag == nil {
			return fixed, nil
		}
		more, err := ag.Signers()
		if err != nil {
			c.log.Warn().Err(err).Msg("cannot list the keys of the ssh agent")
			return fixed, nil
		}
		return append(append([]ssh.Signer{}, fixed...), more...), nil
	}, nil
}

// loadKey parses a private key file. Errors name the file but never
// include the key or the passphrase.
func loadKey(path string, passphrase []byte) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the SSH key file %s: %w", path, err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return nil, fmt.Errorf("the SSH key file %s is not a private key ssh can use: %w", path, err)
		}
		return s, nil
	}
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("the SSH key file %s is encrypted and no passphrase was given", path)
	}
	s, err = ssh.ParsePrivateKeyWithPassphrase(pem, passphrase)
	if errors.Is(err, x509.IncorrectPasswordError) {
		return nil, fmt.Errorf("the passphrase for the SSH key file %s is wrong", path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt the SSH key file %s: %w", path, err)
	}
	return s, nil
}

// connect makes one attempt at a new link: TCP, handshake, login.
func (c *Client) connect(ctx context.Context) (*link, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	c.dials.Add(1)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s: %w", c.addr, err)
	}
	// The handshake has no ctx parameter: a deadline on the socket bounds it,
	// and closing the socket makes ctx cancellation end it early.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(conn, c.addr, c.ssh)
	if !stop() {
		err = errors.Join(err, ctx.Err())
	}
	if err != nil {
		_ = conn.Close()
		return nil, c.explainHandshake(err)
	}
	_ = conn.SetDeadline(time.Time{})
	l := newLink(ssh.NewClient(sc, chans, reqs))
	c.mu.Lock()
	c.gen++
	l.gen = c.gen
	c.mu.Unlock()
	go c.keepalive(l)
	c.log.Debug().Uint64("link", l.gen).Msg("connected")
	return l, nil
}

// explainHandshake turns the ssh package's handshake errors into sentences
// for the user, keeping the original for errors.Is/As.
func (c *Client) explainHandshake(err error) error {
	var hk *HostKeyError
	if errors.As(err, &hk) {
		return hk
	}
	if isAuthError(err) {
		return fmt.Errorf("%s@%s refused every key offered (check the key file, the agent and the server's authorized_keys): %w",
			c.cfg.User, c.addr, err)
	}
	return fmt.Errorf("SSH handshake with %s failed: %w", c.addr, err)
}

// Close ends the connection. Calls in flight fail; later calls return
// ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	l := c.cur
	c.cur, c.closed = nil, true
	c.mu.Unlock()
	var err error
	if l != nil {
		err = l.close()
	}
	c.closeAgent()
	return err
}

func (c *Client) closeAgent() {
	if c.agent != nil {
		_ = c.agent.Close()
	}
}
