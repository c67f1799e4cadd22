// Package e2e is Realm's end-to-end suite: real sockets, real NATS (embedded,
// and a three-node JetStream cluster), the login, ingress and world services
// in-process (libs/testutil/realmtest) and players driven by the real client
// library (libs/client). It has no code outside its tests.
//
// Each scenario checks what a player sees, never how fast: every player
// steers between two points inside the map and checks, snapshot after
// snapshot, that its own entity moves in the direction of the input the world
// says it applied (Snapshot.last_input_sequence); every assertion polls with
// a deadline. Scenarios:
//
//   - many players (50; 12 with -short) log in, move and see their own
//     movement and each other (up to the snapshot's cap and byte budget);
//   - two login and two ingress instances on one NATS act as one realm:
//     players spread over both, everybody sees everybody, and logging an
//     account in on the other login instance kicks the first session
//     (REPLACED) and replaces its entity;
//   - a player whose UDP port changes (client Rebind) keeps playing after
//     its re-handshake;
//   - a player who logs out, closes its TLS connection, or whose TCP
//     connection is reset disappears from the others' snapshots;
//   - the world restarted mid-run rebuilds every player from the ingress
//     resync, and movement continues;
//   - on a three-node NATS cluster (KV buckets with 3 replicas, services
//     given all three URLs), losing the node under the ingress, and later
//     the one under the world, keeps snapshots flowing and logins working.
//
// Cost: under 10 s on a two-core machine under the race detector, a third
// of it the cluster scenario (JetStream elections after each node loss);
// -short trims the player counts.
package e2e
