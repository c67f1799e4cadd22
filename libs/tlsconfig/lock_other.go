//go:build !unix

package tlsconfig

// lockDir is a no-op where flock is unavailable: concurrent EnsureDevCert
// calls on one directory are then not serialised.
func lockDir(string) (func(), error) { return func() {}, nil }
