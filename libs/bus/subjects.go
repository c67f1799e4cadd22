package bus

import (
	"errors"
	"fmt"
)

// Subjects of the events exchanged between services; the payload of each is
// the realmv1 message named in the comment.
const (
	// SubjectSessionOpened carries realmv1.SessionOpened, from login.
	SubjectSessionOpened = "realm.session.opened"
	// SubjectSessionClosed carries realmv1.SessionClosed, from login.
	SubjectSessionClosed = "realm.session.closed"
	// SubjectEndpointBound carries realmv1.EndpointBound, from ingress.
	SubjectEndpointBound = "realm.endpoint.bound"
	// SubjectEndpointUnbound carries realmv1.EndpointUnbound, from ingress.
	SubjectEndpointUnbound = "realm.endpoint.unbound"
	// SubjectWorldInput carries realmv1.InputBatch, from ingress to world.
	SubjectWorldInput = "realm.world.input"
	// SubjectIngressResync carries realmv1.ResyncRequest, from world to every
	// ingress instance.
	SubjectIngressResync = "realm.ingress.resync"
)

// MaxIDLen is the longest instance id ValidID accepts.
const MaxIDLen = 64

// ErrBadID is returned by ValidID for an id that cannot be a subject token.
var ErrBadID = errors.New("bus: invalid instance id")

// IngressOutSubject is the subject on which world sends realmv1.SnapshotBatch
// to the ingress instance ingressID: "realm.ingress.<id>.out". The id must
// pass ValidID (check it once, when the instance is configured).
func IngressOutSubject(ingressID string) string {
	return "realm.ingress." + ingressID + ".out"
}

// ValidID reports whether id can be used as one NATS subject token: 1 to
// MaxIDLen characters of [A-Za-z0-9_-].
func ValidID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return fmt.Errorf("%w: %q: length must be 1..%d", ErrBadID, id, MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q: only [A-Za-z0-9_-] allowed", ErrBadID, id)
		}
	}
	return nil
}
