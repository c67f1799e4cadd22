package flagenv

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// ErrBadEnv is wrapped by the error Parse returns when an environment value is
// rejected by its flag.
var ErrBadEnv = errors.New("flagenv: invalid environment value")

// EnvName returns the environment variable that backs flag name under prefix:
// PREFIX_NAME, upper-cased, with '-' and '.' replaced by '_'. An empty prefix
// yields just NAME.
func EnvName(prefix, name string) string {
	n := envToken(name)
	if prefix == "" {
		return n
	}
	return envToken(prefix) + "_" + n
}

func envToken(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '.':
			return '_'
		}
		return r
	}, strings.ToUpper(s))
}

// Parse parses args into fs, then sets every flag that args did not set from
// its environment variable (see EnvName), when that variable exists. It also
// appends " [$VAR]" to each flag's usage text, once, so that fs.PrintDefaults
// shows it; call Parse before anything prints usage.
//
// Errors from fs.Parse (including flag.ErrHelp) are returned as they are. An
// environment value that the flag rejects yields an error wrapping ErrBadEnv
// and naming the variable (its value is not echoed: it may be a secret).
func Parse(fs *flag.FlagSet, prefix string, args []string) error {
	Document(fs, prefix)
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		name := EnvName(prefix, f.Name)
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%w: $%s for -%s: %w", ErrBadEnv, name, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// Document appends " [$VAR]" to the usage text of every flag in fs that does
// not already mention its variable. Parse calls it; call it yourself only to
// print usage without parsing.
func Document(fs *flag.FlagSet, prefix string) {
	fs.VisitAll(func(f *flag.Flag) {
		tag := " [$" + EnvName(prefix, f.Name) + "]"
		if !strings.HasSuffix(f.Usage, tag) {
			f.Usage += tag
		}
	})
}

// List splits a comma-separated flag value into its items, trimmed of
// spaces, dropping empty ones: "a, b,,c" → [a b c], "" → nil.
func List(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
