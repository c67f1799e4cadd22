// Package flagenv gives command-line flags environment-variable fallbacks.
//
// Every Realm binary is configured by flags, and in containers by the
// environment. Parse keeps one source of truth, the flag.FlagSet: after the
// command line is parsed, each flag that was not given on it takes its value
// from the variable <PREFIX>_<NAME>, where NAME is the flag name upper-cased
// with '-' and '.' turned into '_' (prefix "REALM", flag "nats-url" →
// REALM_NATS_URL). Precedence is therefore: command line, then environment,
// then the flag's default.
//
// The variable name is appended to each flag's usage text (" [$REALM_NATS_URL]")
// so that -h documents it. A variable that is set but empty counts as set and
// is handed to the flag as an empty string. A value the flag rejects is an
// error naming the variable.
//
// Parse reads the environment once per flag at start-up; it has no cost after.
package flagenv
