package wire

import (
	"crypto/cipher"
	"encoding/binary"
	"slices"
	"strconv"
	"sync"
)

// Packet layout; see the package documentation.
const (
	// HeaderSize is the size of the clear header: type u8 | sequence u64.
	HeaderSize = 9
	// TagSize is the size of a ChaCha20-Poly1305 tag.
	TagSize = 16
	// MaxPacketSize is the largest packet on the wire, in bytes.
	MaxPacketSize = 1400
	// MaxPlaintextSize is the largest plaintext a data packet can carry.
	MaxPlaintextSize = MaxPacketSize - HeaderSize - TagSize

	nonceSize = 12
)

// PacketType is the first byte of every packet.
type PacketType uint8

// Packet types.
const (
	TypeHandshake    PacketType = 1 // client to server, authenticated, not encrypted
	TypeHandshakeAck PacketType = 2 // server to client, sealed realmv1.HandshakeAck
	TypeInput        PacketType = 3 // client to server, sealed realmv1.PlayerInput
	TypeSnapshot     PacketType = 4 // server to client, sealed realmv1.Snapshot
	TypeKeepAlive    PacketType = 5 // client to server, sealed empty plaintext
)

// String returns a short lowercase name, suitable as a metric label.
func (t PacketType) String() string {
	switch t {
	case TypeHandshake:
		return "handshake"
	case TypeHandshakeAck:
		return "handshake_ack"
	case TypeInput:
		return "input"
	case TypeSnapshot:
		return "snapshot"
	case TypeKeepAlive:
		return "keepalive"
	}
	return "unknown(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the packet types.
func (t PacketType) Valid() bool { return t >= TypeHandshake && t <= TypeKeepAlive }

// IsData reports whether t is a data packet type (sealed with
// SealPacket), that is every valid type but TypeHandshake.
func (t PacketType) IsData() bool { return t > TypeHandshake && t <= TypeKeepAlive }

// FromClient reports whether t is a type the client sends (handshake, input,
// keepalive). The client holds both session keys, so it could seal a packet
// of a server type with its own key: the receiver must check the direction of
// the type as well as the tag.
func (t PacketType) FromClient() bool {
	return t == TypeHandshake || t == TypeInput || t == TypeKeepAlive
}

// FromServer reports whether t is a type the server sends (handshake ack,
// snapshot).
func (t PacketType) FromServer() bool { return t == TypeHandshakeAck || t == TypeSnapshot }

// Header is the clear header of a packet.
type Header struct {
	Type PacketType
	Seq  uint64
}

// ParseHeader reads the header of any packet. It fails with ErrTruncated for
// fewer than HeaderSize bytes and ErrUnknownType for an unknown type; it does
// not check the rest of the packet.
func ParseHeader(packet []byte) (Header, error) {
	if len(packet) < HeaderSize {
		return Header{}, ErrTruncated
	}
	h := Header{Type: PacketType(packet[0]), Seq: binary.BigEndian.Uint64(packet[1:HeaderSize])}
	if !h.Type.Valid() {
		return Header{}, ErrUnknownType
	}
	return h, nil
}

// nonces holds nonce buffers: the AEAD is behind an interface, so a nonce on
// the stack would escape to the heap on every call.
var nonces = sync.Pool{New: func() any { return new([nonceSize]byte) }}

// getNonce returns a pooled nonce for seq; the caller puts it back.
func getNonce(seq uint64) *[nonceSize]byte {
	n := nonces.Get().(*[nonceSize]byte)
	n[0], n[1], n[2], n[3] = 0, 0, 0, 0
	binary.BigEndian.PutUint64(n[4:], seq)
	return n
}

// SealPacket appends a data packet (header, ciphertext, tag: HeaderSize +
// len(plaintext) + TagSize bytes) to dst and returns the extended slice. aead
// is the sender's direction key (NewAEAD) and seq comes from the sender's
// Sequence. It fails with ErrWrongType for TypeHandshake, ErrUnknownType for
// an unknown type and ErrTooLarge for a plaintext over MaxPlaintextSize. It
// does not allocate when dst has enough capacity.
//
// To seal in place, marshal the plaintext into dst's spare capacity starting
// HeaderSize bytes after len(dst) (for example with
// proto.MarshalOptions.MarshalAppend(dst[len(dst)+HeaderSize:][:0], msg)) and
// pass that slice as plaintext. Any other overlap between plaintext and dst's
// spare capacity is a programming error on which the AEAD panics.
func SealPacket(dst []byte, aead cipher.AEAD, typ PacketType, seq uint64, plaintext []byte) ([]byte, error) {
	if !typ.IsData() {
		if typ == TypeHandshake {
			return dst, ErrWrongType
		}
		return dst, ErrUnknownType
	}
	if len(plaintext) > MaxPlaintextSize {
		return dst, ErrTooLarge
	}
	start := len(dst)
	out := slices.Grow(dst, HeaderSize+len(plaintext)+TagSize)
	out = append(out, byte(typ))
	out = binary.BigEndian.AppendUint64(out, seq)
	nonce := getNonce(seq)
	out = aead.Seal(out, nonce[:], plaintext, out[start:start+HeaderSize])
	nonces.Put(nonce)
	return out, nil
}

// OpenPacket authenticates and decrypts a data packet, appends the plaintext
// to dst and returns the header and the extended slice. aead is the
// receiver's key for the sender's direction. It fails with ErrTruncated,
// ErrTooLarge, ErrUnknownType, ErrWrongType (a handshake) or ErrAuth; on
// failure it returns a zero Header and dst unchanged in length. To decrypt in
// place, pass packet[HeaderSize:HeaderSize] as dst. It does not allocate when
// dst has enough capacity. It does not check the replay window: call
// ReplayWindow.Check on the header before and Accept after. Nor does it check
// the direction: the receiver drops types its peer does not send
// (PacketType.FromClient, FromServer).
func OpenPacket(dst []byte, aead cipher.AEAD, packet []byte) (Header, []byte, error) {
	h, err := ParseHeader(packet)
	if err != nil {
		return Header{}, dst, err
	}
	if h.Type == TypeHandshake {
		return Header{}, dst, ErrWrongType
	}
	if len(packet) < HeaderSize+TagSize {
		return Header{}, dst, ErrTruncated
	}
	if len(packet) > MaxPacketSize {
		return Header{}, dst, ErrTooLarge
	}
	nonce := getNonce(h.Seq)
	out, err := aead.Open(dst, nonce[:], packet[HeaderSize:], packet[:HeaderSize])
	nonces.Put(nonce)
	if err != nil {
		return Header{}, dst, ErrAuth
	}
	return h, out, nil
}
