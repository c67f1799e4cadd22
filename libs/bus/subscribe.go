package bus

import (
	"fmt"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// Message is the constraint of Subscribe's type parameters: M is *T and a
// protobuf message, e.g. T = realmv1.SessionClosed, M = *realmv1.SessionClosed.
type Message[T any] interface {
	*T
	proto.Message
}

// Subscribe calls handler with each message on subject, decoded into a new
// M. The type parameters are inferred from handler:
//
//	bus.Subscribe(c, bus.SubjectSessionClosed, func(m *realmv1.SessionClosed) { ... })
//
// Messages that do not decode are dropped and counted (see the package doc).
// Handlers of one subscription run one at a time on its goroutine; a slow
// handler makes messages queue up to the subscription's pending limits
// (nats.go defaults: 512Ki messages, 64 MiB), past which they are dropped and
// reported as a slow consumer. Unsubscribe (or Drain) the returned
// subscription to stop.
func Subscribe[T any, M Message[T]](c *Conn, subject string, handler func(M)) (*nats.Subscription, error) {
	return SubscribeDecode(c, subject, unmarshal[T](handler))
}

// QueueSubscribe is Subscribe in queue group queue: each message goes to one
// member of the group.
func QueueSubscribe[T any, M Message[T]](c *Conn, subject, queue string, handler func(M)) (*nats.Subscription, error) {
	sub, err := c.nc.QueueSubscribe(subject, queue, c.decoder(unmarshal[T](handler)))
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s (queue %s): %w", subject, queue, err)
	}
	return sub, nil
}

// SubscribeDecode is Subscribe for a caller that decodes the payload itself
// (without allocating, say): decode gets each message's payload, valid
// only during the call, and a decode error drops the message and counts it
// like an undecodable message of Subscribe.
func SubscribeDecode(c *Conn, subject string, decode func(payload []byte) error) (*nats.Subscription, error) {
	sub, err := c.nc.Subscribe(subject, c.decoder(decode))
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", subject, err)
	}
	return sub, nil
}

// unmarshal returns a decode function that unmarshals a payload into a new
// M and hands it to handler.
func unmarshal[T any, M Message[T]](handler func(M)) func([]byte) error {
	return func(b []byte) error {
		m := M(new(T))
		if err := proto.Unmarshal(b, m); err != nil {
			return err
		}
		handler(m)
		return nil
	}
}

// decoder returns the message handler of a subscription: decode, and drop
// and count what does not decode.
func (c *Conn) decoder(decode func([]byte) error) nats.MsgHandler {
	return func(msg *nats.Msg) {
		if err := decode(msg.Data); err != nil {
			c.dropUndecodable(msg.Subject, len(msg.Data), err)
		}
	}
}

// dropUndecodable counts a message that did not decode and logs at most once
// per DecodeLogInterval.
func (c *Conn) dropUndecodable(subject string, size int, err error) {
	c.decodeErrs.Add(1)
	if c.decodeCounter != nil {
		c.decodeCounter.Inc()
	}
	if !c.decodeLimit.Allow() {
		c.decodeSkipped.Add(1)
		return
	}
	c.log.Warn("dropped undecodable message",
		zap.String("subject", subject),
		zap.Int("bytes", size),
		zap.Error(err),
		zap.Uint64("suppressed", c.decodeSkipped.Swap(0)),
		zap.Uint64("total", c.decodeErrs.Load()),
	)
}
