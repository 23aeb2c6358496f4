package store

// Role is what a token lets its holder do. Each role can do everything the
// ones below it can: admin ⊃ operator ⊃ viewer.
type Role string

const (
	RoleViewer   Role = "viewer"   // reads runs, events and workflows
	RoleOperator Role = "operator" // also submits and cancels runs
	RoleAdmin    Role = "admin"    // also manages tokens and SSH keys
)

// Action is something a request wants to do, checked with Can.
type Action string

const (
	ActionRead   Action = "read"
	ActionSubmit Action = "submit"
	ActionCancel Action = "cancel"
	ActionAdmin  Action = "admin" // managing tokens and SSH keys
)

// rank orders roles; an unknown role ranks 0 and may do nothing.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// needs is the least role that may do a; an unknown action needs more
// than any role, so a typo in the server denies rather than allows.
func (a Action) needs() int {
	switch a {
	case ActionRead:
		return RoleViewer.rank()
	case ActionSubmit, ActionCancel:
		return RoleOperator.rank()
	case ActionAdmin:
		return RoleAdmin.rank()
	}
	return RoleAdmin.rank() + 1
}

// Can reports whether role r may do action a.
func Can(r Role, a Action) bool {
	return r.Valid() && r.rank() >= a.needs()
}
