// Package frame is the framing of the login TLS control plane.
//
// A frame is a uint32 big-endian length followed by exactly that many bytes of
// one protobuf message (realmv1.ClientMessage from a client,
// realmv1.ServerMessage from the server). The length counts only the payload
// and is at most MaxSize (64 KiB); the 4-byte header comes on top.
//
// The package is a codec: it knows io.Reader and io.Writer, not sockets,
// deadlines or TLS. Costs and limits:
//
//   - Write marshals into a caller-owned buffer and issues exactly one Write
//     call per frame, so a small frame leaves in one TLS record and
//     concurrent writers need only serialise whole calls. With a reused
//     buffer it does not allocate.
//   - Reader checks the length against MaxSize before reading the body, so a
//     peer cannot make us buffer more than MaxSize bytes. It reads the header
//     and the body with two reads and does no read-ahead: wrap the source in a
//     bufio.Reader if it is an unbuffered socket (tls.Conn already buffers a
//     decrypted record). Its body buffer is reused for frames up to 8 KiB;
//     larger frames use a transient buffer, so an idle connection retains at
//     most 8 KiB.
//   - Decoding allocates whatever the message needs (sub-messages, strings,
//     bytes fields are copied, never aliased to the buffer).
//
// A Reader reports io.EOF only at a clean frame boundary, io.ErrUnexpectedEOF
// when the stream ends inside a frame, ErrTooLarge for a length over MaxSize
// and ErrMalformed (wrapping the protobuf error) for a body that does not
// decode. After ErrTooLarge the stream is out of sync: close the connection.
// After ErrMalformed the stream is still in sync (the whole body was consumed).
package frame
