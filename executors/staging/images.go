package staging

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/images"
	"github.com/flow-cwl/flow/internal/shell"
)

// Images reach the remote side in one of two ways, and both end in the
// same place, ImageDir/sha256/<hex>.sif, named by the SHA-256 of the SIF
// file:
//
//   - uploaded from this machine (Remote.StageImage), the default;
//   - pulled on the remote side by its own runtime (LoginPuller), for a
//     cluster that reaches the registry: nothing is pulled here or sent.
//
// A task whose Image already names a file there is run with it as it is.

// stageImage returns the remote path of the task's image, uploading it
// unless it is already one of the remote side's images.
func (s *stager) stageImage(ctx context.Context, image string) (string, error) {
	dir := s.opts.Containers.ImageDir
	if strings.HasPrefix(image, path.Join(dir, "sha256")+"/") {
		return image, nil
	}
	return s.remote.StageImage(ctx, image, dir)
}

// Runner runs a script on the remote side and returns its output.
type Runner interface {
	Run(ctx context.Context, script string) ([]byte, error)
}

// LoginPuller pulls images on the remote side with its runtime, each
// image name once: the pull goes to ImageDir/sha256/<hex>.sif, and
// ImageDir/by-name/<name> records which file the name gave, so that
// later runs (from this machine or any other) find it without pulling.
// One process pulls a name at a time, under a lock directory beside the
// record; others wait for it.
type LoginPuller struct {
	Remote   Runner
	ImageDir string
	// Argv starts the runtime (RuntimeArgv of the cluster's settings);
	// "pull ..." follows.
	Argv []string
	// Insecure says whether a registry (host:port, as in the image
	// name) is spoken to over plain HTTP.
	Insecure func(registry string) bool
	// CADir, if set, is a directory on the remote side of CA
	// certificates the pull trusts beside the system's.
	CADir string
	// Where names the remote side in messages, e.g. "cluster hpc1".
	Where string
	Log   zerolog.Logger

	mu    sync.Mutex
	done  map[string]RemoteImage   // by URI, for this process
	turns map[string]chan struct{} // by URI: one pull of it at a time here
}

// RemoteImage is an image on the remote side.
type RemoteImage struct {
	Path   string // ImageDir/sha256/<hex>.sif
	Digest string // "sha256:<hex>" of the file
}

// pullWait is the longest wait between two looks at another process's
// pull of the same image.
const pullWait = 5 * time.Second

// Pull returns the image uri names ("docker://host/repo:tag"), pulling it
// on the remote side unless an earlier pull is recorded there. Waiting
// for another process's pull ends with ctx.
func (p *LoginPuller) Pull(ctx context.Context, uri string) (RemoteImage, error) {
	turn := p.turn(uri)
	select { // steps wanting the same image wait for one pull of it
	case turn <- struct{}{}:
		defer func() { <-turn }()
	case <-ctx.Done():
		return RemoteImage{}, ctx.Err()
	}
	p.mu.Lock()
	img, ok := p.done[uri]
	p.mu.Unlock()
	if ok {
		return img, nil
	}
	script := p.script(uri)
	for delay := 200 * time.Millisecond; ; delay = min(2*delay, pullWait) {
		out, err := p.Remote.Run(ctx, script)
		if err != nil {
			return RemoteImage{}, fmt.Errorf("%s: cannot pull %s on its login node: %w", p.Where, uri, err)
		}
		img, pulled, busy, err := p.parse(uri, string(out))
		if err != nil {
			return RemoteImage{}, err
		}
		if !busy {
			if pulled {
				p.Log.Info().Str("image", uri).Str("remote", img.Path).Str("digest", img.Digest).Msg("image pulled on the cluster")
			}
			p.mu.Lock()
			p.done[uri] = img
			p.mu.Unlock()
			return img, nil
		}
		select {
		case <-ctx.Done():
			return RemoteImage{}, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// turn is the lock of uri's pulls in this process: a channel holding
// one token, so that waiting for it can end with a context.
func (p *LoginPuller) turn(uri string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.turns == nil {
		p.turns, p.done = map[string]chan struct{}{}, map[string]RemoteImage{}
	}
	if p.turns[uri] == nil {
		p.turns[uri] = make(chan struct{}, 1)
	}
	return p.turns[uri]
}

// parse reads the script's answer: "image|pulled HEX SIZE", "busy", or
// "failed" and the runtime's last words.
func (p *LoginPuller) parse(uri, out string) (img RemoteImage, pulled, busy bool, err error) {
	first, rest, _ := strings.Cut(strings.TrimSpace(out), "\n")
	f := strings.Fields(first)
	switch {
	case len(f) == 3 && (f[0] == "image" || f[0] == "pulled") && len(f[1]) == 64:
		return RemoteImage{Path: path.Join(p.ImageDir, "sha256", f[1]+".sif"), Digest: "sha256:" + f[1]}, f[0] == "pulled", false, nil
	case first == "busy":
		return RemoteImage{}, false, true, nil
	case first == "failed":
		return RemoteImage{}, false, false, fmt.Errorf("%s: cannot pull %s on its login node: %s", p.Where, uri, lastLine(rest))
	}
	return RemoteImage{}, false, false, fmt.Errorf("%s: cannot pull %s on its login node: unexpected answer %q", p.Where, uri, lastLine(out))
}

// lastLine is the last non-empty line of a runtime's output, which says
// why it failed (FATAL: ...).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(strings.Fields(lines[len(lines)-1]), " ")
}

// pullScript pulls one image under the lock, unless its record names a
// file that is there. The lock directory is kept fresh while the pull
// runs (a lock older than ten minutes is a dead process's), and the
// partial file lives inside it, so that both go together. A SIF file
// starts with a 32-byte launch line, then "SIF_MAGIC".
const pullScript = `dir=%s name=%s uri=%s
rec="$dir/by-name/$name" lock="$dir/by-name/$name.lock"
found() {
	[ -s "$rec" ] && read -r sum size _ < "$rec" &&
	[ "$(stat -c %%s -- "$dir/sha256/$sum.sif" 2>/dev/null)" = "$size" ] && echo "image $sum $size"
}
found && exit 0
mkdir -p -- "$dir/by-name" "$dir/sha256" || exit 1
if [ -d "$lock" ] && [ -n "$(find "$lock" -maxdepth 0 -mmin +10 2>/dev/null)" ]; then rm -rf -- "$lock"; fi
mkdir -- "$lock" 2>/dev/null || { echo busy; exit 0; }
(while sleep 30; do touch -- "$lock"; done) </dev/null >/dev/null 2>&1 &
fresh=$!
trap 'kill $fresh 2>/dev/null; rm -rf -- "$lock"' EXIT
found && exit 0
tmp="$lock/image.sif"
if ! out=$(%s pull --force "$tmp" "$uri" 2>&1); then printf 'failed\n%%s\n' "$out"; exit 0; fi
if [ "$(head -c 41 -- "$tmp" | tail -c 9)" != SIF_MAGIC ]; then printf 'failed\nthe runtime wrote no SIF image\n'; exit 0; fi
sum=$(sha256sum -- "$tmp" | cut -d ' ' -f 1) size=$(stat -c %%s -- "$tmp") || exit 1
if [ "$(stat -c %%s -- "$dir/sha256/$sum.sif" 2>/dev/null)" != "$size" ]; then
	chmod a-w -- "$tmp" && mv -f -- "$tmp" "$dir/sha256/$sum.sif" || exit 1
fi
printf '%%s %%s %%s\n' "$sum" "$size" "$uri" > "$rec.tmp" && mv -f -- "$rec.tmp" "$rec" || exit 1
echo "pulled $sum $size"
`

// script is pullScript for uri, every word quoted.
func (p *LoginPuller) script(uri string) string {
	var cmd []string
	if host := images.RegistryHost(uri); host != "" && p.Insecure != nil && p.Insecure(host) {
		// Both runtimes read NOHTTPS under their own prefix; the flag's
		// name changed across versions, the variable's did not.
		cmd = append(cmd, "SINGULARITY_NOHTTPS=true", "APPTAINER_NOHTTPS=true")
	}
	if p.CADir != "" {
		cmd = append(cmd, "SSL_CERT_DIR="+p.CADir)
	}
	if cmd != nil {
		cmd = append([]string{"env"}, cmd...)
	}
	cmd = append(cmd, p.Argv...)
	for i, w := range cmd {
		cmd[i] = shell.Quote(w)
	}
	return fmt.Sprintf(pullScript, shell.Quote(p.ImageDir), shell.Quote(recordName(uri)), shell.Quote(uri), strings.Join(cmd, " "))
}

// recordName is the file name of uri's record: the URI with '/' made
// '_' (so it stays one name in the directory), or its SHA-256 when that
// would be too long a name.
func recordName(uri string) string {
	name := strings.NewReplacer("/", "_", "\x00", "_").Replace(uri)
	if len(name) > 200 || name == "." || name == ".." {
		sum := sha256.Sum256([]byte(uri))
		return "sha256-" + hex.EncodeToString(sum[:])
	}
	return name
}
