// Package wire is the byte format of the UDP data plane: connect tokens,
// handshake requests, sealed data packets and the replay window. It is a pure
// codec: it knows bytes and keys, not sockets, sessions or clocks (every
// function that needs the time takes it as an argument). This comment is the
// normative specification; ingress and the client library both follow it.
//
// # Keys and ciphers
//
// Every key is 32 bytes (Key). Data packets use ChaCha20-Poly1305 (RFC 8439,
// 12-byte nonce, 16-byte tag) with one key per direction of one session: the
// client-to-server key and the server-to-client key, both chosen at random by
// login. Connect tokens use XChaCha20-Poly1305 (24-byte random nonce) with the
// token key that login and ingress share. Keys travel in configuration files
// and environment variables as 64 hexadecimal characters (ParseKey, Key.Hex);
// Key.String redacts, so a key printed by accident in a log does not leak. All
// integers on the wire are big-endian.
//
// # Connect token
//
// Login seals a token of exactly TokenSize (129) bytes; the client treats it as
// opaque and ingress opens it without any lookup:
//
//	off  0  len  1  version = 1 (TokenVersion)
//	off  1  len  8  expires: Unix milliseconds, uint64
//	off  9  len 24  nonce, from crypto/rand
//	off 33  len 96  XChaCha20-Poly1305(token key, nonce, ad = bytes[0:9],
//	                  plaintext = session_id u64 | account_id u64 |
//	                              client_to_server_key [32] | server_to_client_key [32])
//	                  = 80 bytes of ciphertext + 16 bytes of tag
//
// A token is expired when now >= expires (compared in milliseconds). The
// version and the expiry are in the clear, so they are checked before any
// cryptography, and they are authenticated as associated data. Session id 0 is
// reserved (it means "no session" elsewhere) and is never sealed. The nonce is
// random: a token key may seal about 2^64 tokens before a nonce collision
// becomes likely.
//
// # Packets
//
// Every packet starts with a 9-byte header (HeaderSize) in the clear:
//
//	off 0  len 1  type (PacketType)
//	off 1  len 8  sequence, uint64
//
// Types: 1 HandshakeRequest (client to server), 2 HandshakeAck (server to
// client, a sealed realmv1.HandshakeAck), 3 Input (client to server, a sealed
// realmv1.PlayerInput), 4 Snapshot (server to client, a sealed
// realmv1.Snapshot), 5 KeepAlive (client to server, sealed empty plaintext).
// No packet is larger than MaxPacketSize (1400) bytes on the wire, which fits
// the common 1500-byte MTU with room for IPv6, UDP and tunnel headers.
//
// A data packet (types 2 to 5) is
//
//	header | ChaCha20-Poly1305 Seal(direction key, nonce(seq), plaintext, ad = header)
//
// so it is HeaderSize + len(plaintext) + TagSize bytes, and the plaintext is at
// most MaxPlaintextSize (1375) bytes. The nonce is 4 zero bytes followed by the
// sequence (8 bytes, big-endian). The header is associated data, so neither the
// type nor the sequence can be changed without failing authentication. The
// two directions use different keys, so a packet reflected back to its sender
// fails authentication; but the client holds both keys, so each side also
// drops the types its peer does not send (PacketType.FromClient, FromServer).
//
// # Handshake request
//
// The handshake request (type 1) proves possession of the client-to-server key
// carried in the token. It is authenticated, not encrypted:
//
//	off  0   len 1   type = 1
//	off  1   len 8   sequence, uint64
//	off  9   len 2   L: length of the UdpHandshake protobuf
//	off 11   len L   realmv1.UdpHandshake{session_id, connect_token}
//	then             zero padding
//	last 16          tag = ChaCha20-Poly1305 Seal(client-to-server key, nonce(seq),
//	                         plaintext = empty, ad = every byte before the tag)
//
// The whole request is at least MinHandshakeSize (512) bytes and at most
// MaxPacketSize. Nonzero padding is rejected, so the padding is no covert
// channel. The server answers only after the request verifies, and its answer
// (a HandshakeAck data packet, about 100 bytes) is smaller than the request, so
// the handshake cannot be used to amplify a spoofed-source flood.
//
// OpenHandshake checks, in this order, cheapest first: the size and the type;
// the length field, the padding and the UdpHandshake encoding; the token
// (version, expiry, then its XChaCha20-Poly1305 tag); that the session id in
// the token equals the one in the UdpHandshake; and last the request's own tag
// with the token's client-to-server key. The UdpHandshake is decoded with
// protowire instead of proto.Unmarshal and the token is opened into a pooled
// buffer, so rejecting a forged request allocates nothing; a fuzz test checks
// that this decoder accepts exactly what proto.Unmarshal accepts.
//
// A verified request is replayable by anyone who saw it. The handshake's
// sequence therefore belongs to the same replay window as the session's data
// packets from the client (they share the key and the counter): ingress must
// Accept it in that window before it moves the session's endpoint, so a
// replayed request cannot rebind a session to the replayer's address.
//
// # Sequence numbers
//
// Every sender keeps one counter per session and direction (Sequence): the
// client one for its handshakes and data packets (they share the
// client-to-server key), the server one for its acks and snapshots. The
// counter starts at the current Unix time in nanoseconds and adds one per
// packet. A (key, nonce) pair is therefore never reused, even by a client that
// restarts or by another ingress instance that takes the session over, unless
// the wall clock goes backwards or a sender exceeds one packet per nanosecond
// on average since its start. Starting from the clock also keeps a fresh
// sender ahead of the receiver's replay window.
//
// # Replay window
//
// ReplayWindow remembers which of the last ReplayWindowSize (256) sequences
// below the highest accepted one were seen. A packet whose sequence is that far
// behind or more is ErrTooOld; one already seen is ErrReplayed. The window
// advances only after authentication: Check is the cheap test before
// decryption and changes nothing, Accept records the sequence after the packet
// has been opened. The zero value is an empty window. It is not safe for
// concurrent use; the owner of the session serialises calls.
//
// # Costs and limits
//
// SealPacket, OpenPacket, ParseHeader, ReplayWindow and Sequence do not
// allocate when the caller's buffer has enough capacity, and a rejected
// handshake costs no allocation. Errors on those paths are the bare sentinels
// below (wrapping would allocate), so callers add their own context and count
// drops by errors.Is. Nothing here panics on any input. A cipher.AEAD from
// NewAEAD is safe for concurrent use.
package wire
