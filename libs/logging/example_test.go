package logging_test

import (
	"fmt"

	"github.com/ecs-realm/realm/libs/logging"
)

func ExampleNew() {
	log, err := logging.New(logging.Config{Level: "debug", Format: "console"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = log.Sync() }()
	log.Debug("starting")

	_, err = logging.New(logging.Config{Format: "xml"})
	fmt.Println(err)
	// Output: logging: unknown format: "xml" (want "json" or "console")
}
