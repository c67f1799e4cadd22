// Package realmv1 holds the generated Go types of Realm's protobuf messages
// (package realm.v1): the login frames of the TLS control plane, the payloads
// of UDP packets, and the NATS events between the services. The .proto files
// beside this file are the source; tools/genproto.sh regenerates the .pb.go
// files, and CI fails when they differ from what is committed.
// docs/PROTOCOL.md describes how each message travels.
package realmv1
