package logging

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Format names accepted in Config.Format.
const (
	FormatJSON    = "json"
	FormatConsole = "console"
)

// ErrBadLevel is returned by New when Config.Level is not a zap level.
var ErrBadLevel = errors.New("logging: unknown level")

// ErrBadFormat is returned by New when Config.Format is neither "json" nor "console".
var ErrBadFormat = errors.New("logging: unknown format")

// Config selects the logger's level and encoding. Its zero value means info
// level, JSON encoding.
type Config struct {
	// Level is one of debug, info, warn, error, dpanic, panic, fatal
	// (case-insensitive). Empty means "info".
	Level string
	// Format is "json" or "console" (case-insensitive). Empty means "json".
	Format string
}

// New returns a logger writing to stderr as described by cfg.
func New(cfg Config) (*zap.Logger, error) {
	return build(cfg, zapcore.Lock(os.Stderr))
}

// build is New with the destination as a parameter, for tests.
func build(cfg Config, out zapcore.WriteSyncer) (*zap.Logger, error) {
	level, err := ParseLevel(cfg.Level)
	if err != nil {
		return nil, err
	}
	enc, err := encoder(cfg.Format)
	if err != nil {
		return nil, err
	}
	core := zapcore.NewCore(enc, out, zap.NewAtomicLevelAt(level))
	return zap.New(core,
		zap.AddCaller(),
		zap.AddStacktrace(zapcore.ErrorLevel),
		zap.ErrorOutput(out),
	), nil
}

func encoder(format string) (zapcore.Encoder, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "", FormatJSON:
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		return zapcore.NewJSONEncoder(ec), nil
	case FormatConsole:
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		return zapcore.NewConsoleEncoder(ec), nil
	default:
		return nil, fmt.Errorf("%w: %q (want %q or %q)", ErrBadFormat, format, FormatJSON, FormatConsole)
	}
}

// ParseLevel parses a level name (case-insensitive); empty means info.
func ParseLevel(s string) (zapcore.Level, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return zapcore.InfoLevel, nil
	}
	var l zapcore.Level
	if err := l.UnmarshalText([]byte(strings.ToLower(s))); err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadLevel, s)
	}
	return l, nil
}
