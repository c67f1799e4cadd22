// Package logging builds the zap logger every Realm binary uses.
//
// It exists so that all services agree on one encoder setup: JSON with ISO-8601
// timestamps in production (one object per line, cheap to ship and index), and a
// human-readable console encoder in development. A Config's zero value means
// level "info", format "json".
//
// The package holds no global state: New returns a logger that the caller passes
// down into constructors (zap.ReplaceGlobals is never called). Loggers write to
// stderr; the caller should call Sync before the process exits.
//
// Cost: whatever zap costs; the returned logger does not sample, so callers
// must not log per packet (count with Prometheus instead).
package logging
