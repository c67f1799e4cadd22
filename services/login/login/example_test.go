package login_test

import (
	"context"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/login/login"
)

// Example runs a login instance against a NATS server with JetStream until
// SIGTERM. The token key is shared with ingress; the zero values of the
// other fields are the production defaults (TLS 1.3, argon2id at 64 MiB,
// a development certificate in ./data/tls when no certificate is given).
func Example() {
	log := zap.NewExample()
	key, err := wire.ParseKey("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	if err != nil {
		log.Fatal("key", zap.Error(err))
	}
	nc, err := bus.Connect("nats://127.0.0.1:4222", bus.Options{Name: "login", Logger: log})
	if err != nil {
		log.Fatal("nats", zap.Error(err))
	}
	defer nc.Close()
	s, err := login.New(login.Config{
		TokenKey:     key,
		IngressAddrs: []string{"game.example.com:7778"},
	}, nc, log)
	if err != nil {
		log.Fatal("login", zap.Error(err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := s.Run(ctx); err != nil {
		log.Error("shutdown", zap.Error(err))
	}
}
