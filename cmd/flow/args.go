package main

import (
	"flag"
	"strconv"
	"strings"
)

// splitArgs sorts a command line into flow's own flags (for fs.Parse),
// positional arguments, and input flags. Flow's flags may appear anywhere;
// an unknown flag after the first positional argument (the document) and
// everything after "--" are input flags, together with their values.
// Unknown flags before the document are left in flowArgs so that fs.Parse
// reports them.
func splitArgs(fs *flag.FlagSet, args []string) (flowArgs, positional, inputArgs []string) {
	inInputs := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flowArgs, positional, append(inputArgs, args[i+1:]...)
		case isFlag(a):
			name, hasValue := flagName(a)
			f := fs.Lookup(name)
			switch {
			case f != nil:
				flowArgs = append(flowArgs, a)
				if !hasValue && !isBoolFlag(f) && i+1 < len(args) {
					i++
					flowArgs = append(flowArgs, args[i])
				}
			case len(positional) > 0:
				inInputs = true
				inputArgs = append(inputArgs, a)
			default:
				flowArgs = append(flowArgs, a)
			}
		case inInputs:
			inputArgs = append(inputArgs, a)
		default:
			positional = append(positional, a)
		}
	}
	return flowArgs, positional, inputArgs
}

// isFlag reports whether a looks like a flag: a dash and a name, not a
// lone "-" and not a negative number (a value for an input flag).
func isFlag(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	_, err := strconv.ParseFloat(a, 64)
	return err != nil
}

// flagName strips the dashes and any "=value" from a flag.
func flagName(a string) (name string, hasValue bool) {
	name = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	name, _, hasValue = strings.Cut(name, "=")
	return name, hasValue
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
