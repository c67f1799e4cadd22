package client

import (
	"context"
	"fmt"
	"time"

	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// handshake sends handshake requests from l, one every HandshakeRetry, each
// with a new sequence and the session's current token, until the ingress
// acknowledges one or timeout passes (ErrHandshakeTimeout) or ctx ends.
func (u *UDP) handshake(ctx context.Context, l *link, timeout time.Duration) (*realmv1.HandshakeAck, error) {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	retry := time.NewTicker(u.cfg.HandshakeRetry)
	defer retry.Stop()
	buf := make([]byte, 0, wire.MaxPacketSize)
	for {
		token, _ := u.sess.Token()
		var err error
		buf, err = wire.AppendHandshake(buf[:0], u.sess.c2s, u.sess.seq.Next(), u.sess.SessionID, token)
		if err != nil {
			return nil, fmt.Errorf("build handshake: %w", err)
		}
		u.stats.handshakesSent.Add(1)
		if _, err := l.conn.Write(buf); err != nil {
			if !isTransient(err) {
				return nil, fmt.Errorf("send handshake: %w", err)
			}
			u.stats.sendErrors.Add(1) // nobody listening yet: try again
		}
		u.lastSend.Store(time.Now().UnixNano())

		select {
		case a := <-l.acks:
			return a, nil
		case <-retry.C:
		case <-l.done:
			return nil, fmt.Errorf("udp socket: %w", l.err)
		case <-u.stop:
			return nil, ErrClosed
		case <-u.sess.conn.Done():
			return nil, u.sess.conn.Err()
		case <-hctx.Done():
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, ErrHandshakeTimeout
		}
	}
}
