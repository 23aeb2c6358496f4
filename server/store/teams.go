package store

import (
	"fmt"
	"strings"
)

// maxTeamLen bounds a team name: it is a directory name under the data
// directory and part of socket and file paths.
const maxTeamLen = 64

// CheckTeam reports whether team can be a team's name. A team owns a
// directory of the daemon's data directory named after it, so its name
// must be one path component that stays where it is put: letters, digits,
// '.', '_' and '-', not starting with '.' or '-' (no "..", no hidden
// directory, nothing a command line takes for an option), at most 64
// bytes.
func CheckTeam(team string) error {
	if team == "" {
		return fmt.Errorf("the team is empty")
	}
	if len(team) > maxTeamLen {
		return fmt.Errorf("the team name %.20q... is longer than %d bytes", team, maxTeamLen)
	}
	if team[0] == '.' || team[0] == '-' {
		return fmt.Errorf("the team name %q starts with %q: it names a directory, so it must start with a letter, a digit or '_'", team, team[:1])
	}
	if i := strings.IndexFunc(team, func(r rune) bool { return !teamRune(r) }); i >= 0 {
		return fmt.Errorf("the team name %q contains %q: only letters, digits, '.', '_' and '-' are allowed (it names a directory)", team, team[i:i+1])
	}
	return nil
}

func teamRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}
