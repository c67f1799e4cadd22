package tlsconfig_test

import (
	"crypto/tls"
	"fmt"
	"os"

	"github.com/ecs-realm/realm/libs/tlsconfig"
)

func Example() {
	dir, err := os.MkdirTemp("", "realm-dev-cert")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	dc, err := tlsconfig.EnsureDevCert(dir, nil) // localhost, 127.0.0.1, ::1
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := tlsconfig.Server(tlsconfig.ServerConfig{CertFile: dc.CertFile, KeyFile: dc.KeyFile})
	if err != nil {
		fmt.Println(err)
		return
	}
	cli, err := tlsconfig.Client(dc.CAFile, "localhost")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(srv.MinVersion == tls.VersionTLS13, cli.MinVersion == tls.VersionTLS13)
	// Output: true true
}
