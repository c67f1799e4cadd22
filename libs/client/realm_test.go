package client_test

import (
	"github.com/ecs-realm/realm/libs/client"
	"github.com/ecs-realm/realm/libs/testutil/realmtest"
)

// fileConfig returns a client Config for the realm's first login instance
// that trusts the realm's CA through its file, as a real client does, rather
// than through the realm's shared TLS configuration (Realm.ClientConfig).
func fileConfig(r *realmtest.Realm) client.Config {
	cfg := r.ClientConfig(0)
	cfg.TLS, cfg.CAFile = nil, r.CAFile
	return cfg
}
