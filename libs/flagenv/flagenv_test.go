package flagenv

import (
	"bytes"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	tests := []struct{ prefix, flag, want string }{
		{"REALM", "nats-url", "REALM_NATS_URL"},
		{"realm", "tls.cert", "REALM_TLS_CERT"},
		{"REALM", "x", "REALM_X"},
		{"", "log-level", "LOG_LEVEL"},
		{"my-app", "a.b-c", "MY_APP_A_B_C"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := EnvName(tc.prefix, tc.flag); got != tc.want {
				t.Fatalf("EnvName(%q, %q) = %q, want %q", tc.prefix, tc.flag, got, tc.want)
			}
		})
	}
}

type flags struct {
	fs      *flag.FlagSet
	url     *string
	port    *int
	debug   *bool
	timeout *time.Duration
}

func newFlags() flags {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	return flags{
		fs:      fs,
		url:     fs.String("nats-url", "nats://default", "NATS server URL"),
		port:    fs.Int("metrics.port", 9090, "metrics port"),
		debug:   fs.Bool("debug", false, "debug mode"),
		timeout: fs.Duration("timeout", time.Second, "timeout"),
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		url     string
		port    int
		debug   bool
		timeout time.Duration
		errVar  string // non-empty: want ErrBadEnv naming it
	}{
		{name: "defaults", url: "nats://default", port: 9090, timeout: time.Second},
		{
			name: "env only",
			env:  map[string]string{"REALM_NATS_URL": "nats://env", "REALM_METRICS_PORT": "1", "REALM_DEBUG": "true", "REALM_TIMEOUT": "5s"},
			url:  "nats://env", port: 1, debug: true, timeout: 5 * time.Second,
		},
		{
			name: "flag wins over env",
			env:  map[string]string{"REALM_NATS_URL": "nats://env", "REALM_METRICS_PORT": "1"},
			args: []string{"-nats-url", "nats://flag"},
			url:  "nats://flag", port: 1, timeout: time.Second,
		},
		{
			name: "flag equal to default still wins",
			env:  map[string]string{"REALM_NATS_URL": "nats://env"},
			args: []string{"-nats-url=nats://default"},
			url:  "nats://default", port: 9090, timeout: time.Second,
		},
		{
			name: "empty env value is used",
			env:  map[string]string{"REALM_NATS_URL": ""},
			url:  "", port: 9090, timeout: time.Second,
		},
		{
			name: "other prefix ignored",
			env:  map[string]string{"OTHER_NATS_URL": "nats://other"},
			url:  "nats://default", port: 9090, timeout: time.Second,
		},
		{name: "bad int", env: map[string]string{"REALM_METRICS_PORT": "ninety"}, errVar: "REALM_METRICS_PORT"},
		{name: "bad bool", env: map[string]string{"REALM_DEBUG": "maybe"}, errVar: "REALM_DEBUG"},
		{name: "bad duration", env: map[string]string{"REALM_TIMEOUT": "5"}, errVar: "REALM_TIMEOUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			f := newFlags()
			err := Parse(f.fs, "REALM", tc.args)
			if tc.errVar != "" {
				if !errors.Is(err, ErrBadEnv) || !strings.Contains(err.Error(), "$"+tc.errVar) {
					t.Fatalf("err = %v, want ErrBadEnv naming %s", err, tc.errVar)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *f.url != tc.url || *f.port != tc.port || *f.debug != tc.debug || *f.timeout != tc.timeout {
				t.Fatalf("got url=%q port=%d debug=%v timeout=%v; want %q %d %v %v",
					*f.url, *f.port, *f.debug, *f.timeout, tc.url, tc.port, tc.debug, tc.timeout)
			}
		})
	}
}

func TestParseBadArgs(t *testing.T) {
	f := newFlags()
	if err := Parse(f.fs, "REALM", []string{"-nope"}); err == nil || errors.Is(err, ErrBadEnv) {
		t.Fatalf("err = %v, want a flag parse error", err)
	}
	f = newFlags()
	if err := Parse(f.fs, "REALM", []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
}

func TestParseReportsAllBadVars(t *testing.T) {
	t.Setenv("REALM_METRICS_PORT", "x")
	t.Setenv("REALM_DEBUG", "x")
	f := newFlags()
	err := Parse(f.fs, "REALM", nil)
	for _, v := range []string{"REALM_METRICS_PORT", "REALM_DEBUG"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("err = %v, want it to name %s", err, v)
		}
	}
}

func TestUsageDocumentsEnv(t *testing.T) {
	f := newFlags()
	var out bytes.Buffer
	f.fs.SetOutput(&out)
	if err := Parse(f.fs, "REALM", nil); err != nil {
		t.Fatal(err)
	}
	Document(f.fs, "REALM") // idempotent
	f.fs.PrintDefaults()
	for _, v := range []string{"[$REALM_NATS_URL]", "[$REALM_METRICS_PORT]", "[$REALM_DEBUG]", "[$REALM_TIMEOUT]"} {
		if n := strings.Count(out.String(), v); n != 1 {
			t.Errorf("usage mentions %s %d times, want 1:\n%s", v, n, out.String())
		}
	}
}

func TestList(t *testing.T) {
	for in, want := range map[string][]string{
		"":                 nil,
		" , ,":             nil,
		"a":                {"a"},
		"a, b,,c ":         {"a", "b", "c"},
		"127.0.0.1:7778,x": {"127.0.0.1:7778", "x"},
	} {
		if got := List(in); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", in, got, want)
		}
	}
}
