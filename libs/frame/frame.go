package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
)

// MaxSize is the largest payload a frame may carry, in bytes (the 4-byte
// length header is not counted).
const MaxSize = 64 << 10

// HeaderSize is the size of the length prefix, in bytes.
const HeaderSize = 4

// keepSize is the largest body buffer a Reader keeps between frames.
const keepSize = 8 << 10

// ErrTooLarge is returned when a frame's length exceeds MaxSize: by Reader.Read
// before the body is read, and by Write before anything is written.
var ErrTooLarge = errors.New("frame: too large")

// ErrMalformed is returned (wrapped, with the protobuf error) by Reader.Read
// when a frame's body is not a valid encoding of the message.
var ErrMalformed = errors.New("frame: malformed message")

// Write encodes m as one frame and writes it to w with a single Write call.
// buf is scratch space (may be nil); the possibly grown buffer is returned for
// reuse by the next call. Nothing is written if m is larger than MaxSize.
func Write(w io.Writer, m proto.Message, buf []byte) ([]byte, error) {
	size := proto.Size(m)
	if size > MaxSize {
		return buf, fmt.Errorf("%w: %d bytes (max %d)", ErrTooLarge, size, MaxSize)
	}
	buf = append(buf[:0], 0, 0, 0, 0)
	buf, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(buf, m)
	if err != nil {
		return buf, fmt.Errorf("frame: marshal: %w", err)
	}
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-HeaderSize))
	if _, err := w.Write(buf); err != nil {
		return buf, fmt.Errorf("frame: write: %w", err)
	}
	return buf, nil
}

// Reader reads frames from a stream. It is not safe for concurrent use.
type Reader struct {
	r   io.Reader
	hdr [HeaderSize]byte
	buf []byte // reused body buffer, cap <= keepSize
}

// NewReader returns a Reader reading frames from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r}
}

// Read reads the next frame and decodes it into m (which is reset first).
// It returns io.EOF if the stream ends cleanly before a frame,
// io.ErrUnexpectedEOF if it ends inside one, ErrTooLarge, a wrapped
// ErrMalformed, or the underlying reader's error.
func (r *Reader) Read(m proto.Message) error {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		return err // io.EOF only if no header byte was read
	}
	n := binary.BigEndian.Uint32(r.hdr[:])
	if n > MaxSize {
		return fmt.Errorf("%w: %d bytes (max %d)", ErrTooLarge, n, MaxSize)
	}
	var body []byte
	if n <= keepSize {
		if uint32(cap(r.buf)) < n {
			r.buf = make([]byte, max(n, 512))
		}
		body = r.buf[:n]
	} else {
		body = make([]byte, n)
	}
	if _, err := io.ReadFull(r.r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if err := proto.Unmarshal(body, m); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}
