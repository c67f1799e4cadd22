package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    zapcore.Level
		wantErr bool
	}{
		{"", zapcore.InfoLevel, false},
		{"debug", zapcore.DebugLevel, false},
		{"INFO", zapcore.InfoLevel, false},
		{" warn ", zapcore.WarnLevel, false},
		{"error", zapcore.ErrorLevel, false},
		{"verbose", 0, true},
		{"7", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLevel(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrBadLevel) {
					t.Fatalf("ParseLevel(%q) err = %v, want ErrBadLevel", tc.in, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseLevel(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		wantErr  error
		wantJSON bool
		debugOn  bool
		infoOn   bool
	}{
		{name: "zero", cfg: Config{}, wantJSON: true, infoOn: true},
		{name: "json debug", cfg: Config{Level: "debug", Format: "json"}, wantJSON: true, debugOn: true, infoOn: true},
		{name: "console warn", cfg: Config{Level: "warn", Format: "Console"}},
		{name: "bad level", cfg: Config{Level: "loud"}, wantErr: ErrBadLevel},
		{name: "bad format", cfg: Config{Format: "xml"}, wantErr: ErrBadFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := build(tc.cfg, zapcore.AddSync(&buf))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if _, err := New(tc.cfg); !errors.Is(err, tc.wantErr) {
					t.Fatalf("New err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := log.Core().Enabled(zapcore.DebugLevel); got != tc.debugOn {
				t.Errorf("debug enabled = %v, want %v", got, tc.debugOn)
			}
			if got := log.Core().Enabled(zapcore.InfoLevel); got != tc.infoOn {
				t.Errorf("info enabled = %v, want %v", got, tc.infoOn)
			}
			log.Warn("hello", zap.Int("n", 7))
			line := strings.TrimSpace(buf.String())
			var obj map[string]any
			isJSON := json.Unmarshal([]byte(line), &obj) == nil
			if isJSON != tc.wantJSON {
				t.Fatalf("output %q: json = %v, want %v", line, isJSON, tc.wantJSON)
			}
			if isJSON {
				if obj["msg"] != "hello" || obj["level"] != "warn" || obj["n"] != float64(7) {
					t.Fatalf("unexpected JSON fields: %v", obj)
				}
			} else if !strings.Contains(line, "WARN") || !strings.Contains(line, "hello") {
				t.Fatalf("unexpected console line: %q", line)
			}
		})
	}
}

func TestNewStderr(t *testing.T) {
	log, err := New(Config{Level: "error", Format: "console"})
	if err != nil {
		t.Fatal(err)
	}
	if log.Core().Enabled(zapcore.WarnLevel) {
		t.Fatal("warn enabled at error level")
	}
}
