package flagenv_test

import (
	"flag"
	"fmt"
	"os"

	"github.com/ecs-realm/realm/libs/flagenv"
)

func ExampleParse() {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	url := fs.String("nats-url", "nats://127.0.0.1:4222", "NATS servers")
	level := fs.String("log-level", "info", "log level")

	os.Setenv("REALM_NATS_URL", "nats://a:4222,nats://b:4222")
	defer os.Unsetenv("REALM_NATS_URL")

	if err := flagenv.Parse(fs, "REALM", []string{"-log-level", "debug"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*url, *level)
	fmt.Println(fs.Lookup("nats-url").Usage)
	// Output:
	// nats://a:4222,nats://b:4222 debug
	// NATS servers [$REALM_NATS_URL]
}
