// Package remote is flow's single link to a cluster: one SSH connection per
// cluster, over which every shell command and every file transfer travels.
//
// A Client is made by Dial. Dial verifies the server's host key against a
// known_hosts file (always: there is no way to skip it), authenticates with a
// private key file and, if asked, the keys of a running ssh-agent, and opens
// one TCP connection. Everything after that is multiplexed on it:
//
//   - Run starts a session per command and feeds the script to bash on the
//     session's stdin, so a script never has to be quoted as a whole. Values
//     that Go code splices into a script go through Quote, the package's one
//     quoting function.
//   - Upload, Download, Stat, Glob and ReadDir speak SFTP over a subsystem
//     opened lazily on the same connection and reused by every later call.
//   - SHA1 checksums many remote files with one remote command, and
//     StageFile puts a local file in a content-addressed tree on the cluster,
//     uploading each content only once.
//
// Connections drop: login nodes reboot, NAT tables forget, laptops sleep. A
// keepalive request on a ticker notices a dead link even when no call is
// running, and closes it. A call that was in flight when the link died
// returns an error wrapping ErrDisconnected, because only the caller knows
// whether repeating it is safe; Retry repeats idempotent calls for it. The
// call after that finds the link dead and redials with capped exponential
// backoff before it goes on, so callers never manage connections themselves.
package remote
