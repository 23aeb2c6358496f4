package remote

import (
	"errors"
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"net"
	"os"
	"strconv"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Sentinels for host key failures, so that the CLI can tell the user to
// check a fingerprint rather than to retry.
var (
	ErrUnknownHostKey = errors.New("host key not in known_hosts")
	ErrHostKeyChanged = errors.New("host key changed")
)

// HostKeyError is returned when the server's host key is not the one in the
// known_hosts file. Its message names the host, the key type and the key's
// SHA256 fingerprint, and says how to add the key once the user has checked
// the fingerprint with the cluster's administrators.
type HostKeyError struct {
	Host        string // host:port as dialled
	KnownHosts  string // the known_hosts file consulted
	KeyType     string // type of the key the server presented
	Fingerprint string // ssh.FingerprintSHA256 of that key
	Changed     bool   // known_hosts holds a different key for this host
	Revoked     bool   // the key is marked @revoked
}

func (e *HostKeyError) Error() string {
	host, port := splitHostPort(e.Host)
	add := fmt.Sprintf("ssh-keyscan -p %s %s >> %s", port, shell.Quote(host), shell.Quote(e.KnownHosts))
	switch {
	case e.Revoked:
		return fmt.Sprintf("the %s host key of %s (%s) is marked @revoked in %s; refusing to connect",
			e.KeyType, e.Host, e.Fingerprint, e.KnownHosts)
	case e.Changed:
		return fmt.Sprintf("the host key of %s has CHANGED: it now presents a key of type %s with fingerprint %s, "+
			"which does not match %s; this may be an attack or a reinstalled server. "+
			"Ask the cluster's administrators for the right fingerprint; if this one is right, "+
			"remove the old line for %s from %s and add the new key with `%s`",
			e.Host, e.KeyType, e.Fingerprint, e.KnownHosts, knownhosts.Normalize(e.Host), e.KnownHosts, add)
	default:
		return fmt.Sprintf("the host key of %s is not known: it presents a key of type %s with fingerprint %s, "+
			"which is not in %s. Check the fingerprint with the cluster's administrators, then add it with `%s`",
			e.Host, e.KeyType, e.Fingerprint, e.KnownHosts, add)
	}
}

func (e *HostKeyError) Unwrap() error {
	if e.Changed || e.Revoked {
		return ErrHostKeyChanged
	}
	return ErrUnknownHostKey
}

// hostKeys is what Dial needs from a known_hosts file: a callback that
// verifies and the algorithms to ask the server for.
type hostKeys struct {
	callback   ssh.HostKeyCallback
	algorithms []string
}

// loadHostKeys reads the known_hosts file. A missing file is an error, not
// an empty list: an empty list would only turn every connection into an
// "unknown host" failure with a less helpful message.
func loadHostKeys(file, addr string) (*hostKeys, error) {
	if file == "" {
		return nil, errors.New("no known_hosts file is configured; host keys are always verified, so set one")
	}
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("cannot read the known_hosts file %s (host keys are always verified): %w", file, err)
	}
	check, err := knownhosts.New(file)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the known_hosts file %s: %w", file, err)
	}
	hk := &hostKeys{algorithms: knownAlgorithms(check, addr)}
	hk.callback = func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		if err == nil {
			return nil
		}
		herr := &HostKeyError{Host: addr, KnownHosts: file, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key)}
		var kerr *knownhosts.KeyError
		var rerr *knownhosts.RevokedError
		switch {
		case errors.As(err, &rerr):
			herr.Revoked = true
		case errors.As(err, &kerr):
			herr.Changed = len(kerr.Want) > 0
		default:
			return err
		}
		return herr
	}
	return hk, nil
}

// knownAlgorithms returns the host key algorithms of the keys known_hosts
// holds for addr. Without this the server may pick a key type the file does
// not list (say RSA when the file has ed25519) and an honest server would be
// reported as changed. It asks the callback about a throwaway key: the
// KeyError it returns lists the keys known for the host.
func knownAlgorithms(check ssh.HostKeyCallback, addr string) []string {
	probe, err := ssh.ParsePublicKey(probeKey)
	if err != nil {
		return nil
	}
	var kerr *knownhosts.KeyError
	if !errors.As(check(addr, &net.TCPAddr{}, probe), &kerr) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range kerr.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// algorithmsFor maps a key type to the signature algorithms that verify it:
// one RSA key serves three algorithms, preferred strongest first.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// probeKey is the wire form of an ed25519 public key of all zero bytes:
// no server holds it, so it is never found in known_hosts.
var probeKey = append([]byte{0, 0, 0, 11}, append([]byte("ssh-ed25519"), append([]byte{0, 0, 0, 32}, make([]byte, 32)...)...)...)

func splitHostPort(addr string) (host, port string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, "22"
	}
	return h, p
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
