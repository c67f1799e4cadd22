package session

import "errors"

// Errors returned by the registry.
var (
	// ErrExists means Add was given an id that is already registered.
	ErrExists = errors.New("session: already exists")
	// ErrUnknownSession means the id is not registered.
	ErrUnknownSession = errors.New("session: unknown session")
	// ErrZeroID means Add was given id 0, which is reserved for "no session".
	ErrZeroID = errors.New("session: id 0 is reserved")
	// ErrInvalidEndpoint means Bind was given an endpoint with no valid
	// address (the zero netip.AddrPort).
	ErrInvalidEndpoint = errors.New("session: invalid endpoint")
)
