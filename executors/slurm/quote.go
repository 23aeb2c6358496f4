package slurm

import (
	"fmt"
	"strings"
)

// jobName makes a Slurm job name from its parts: letters, digits, '.', '_'
// and '-' are kept, anything else (spaces, quotes, newlines, '/') becomes
// '_', so the name can neither break an #SBATCH line nor confuse squeue's
// output. Slurm allows long names, but squeue shows few characters, so the
// name is cut to 80.
func jobName(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if p == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			b.WriteByte('-')
		}
		for _, r := range p {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
	}
	name := b.String()
	if len(name) > 80 {
		name = name[:80]
	}
	return name
}

// checkDirectiveValue rejects a configured value (partition, account, QOS)
// that could break out of its #SBATCH line or be read as several options.
// These come from flow's configuration, not from workflows, so a bad one
// is an error to fix rather than something to clean up silently.
func checkDirectiveValue(field, v string) error {
	for _, r := range v {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-,:@+=", r)
		if !ok {
			return fmt.Errorf("the Slurm %s %q contains %q; only letters, digits and . _ - , : @ + = are allowed", field, v, r)
		}
	}
	return nil
}

// escapePercent protects a path given to sbatch's --output or --error,
// where %j, %a and the like are replaced; "%%" is a literal '%'.
func escapePercent(p string) string {
	return strings.ReplaceAll(p, "%", "%%")
}
