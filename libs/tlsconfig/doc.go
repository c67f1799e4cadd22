// Package tlsconfig builds the TLS configurations of the login control plane
// and the development certificates it runs with out of the box.
//
// Server returns a TLS 1.3-only configuration by default. AllowTLS12 opens TLS
// 1.2 for old clients, restricted to ECDHE key exchange with AEAD ciphers
// (AES-GCM, ChaCha20-Poly1305): no RSA key exchange, no CBC, no SHA-1 MACs.
// Session tickets stay on so that reconnecting clients resume without a full
// handshake; crypto/tls rotates the ticket keys itself (every 24 hours, each
// valid for 7 days), so resumption does not survive a process restart. The
// certificate is read once: restart the process to roll it.
//
// Client returns a TLS 1.3 configuration trusting one CA file (or the system
// roots) with an LRU session cache (64 entries), so repeated connections to the
// same login server resume.
//
// EnsureDevCert is for development and tests only: it makes a throw-away
// self-signed ECDSA P-256 CA, signs a leaf for the given hosts with it, writes
// ca.pem, cert.pem and key.pem (mode 0600) and forgets the CA key, so nothing
// else can ever be signed with that CA. Files already present are reused while
// they still chain to ca.pem, match the requested hosts and are more than a day
// from expiry; otherwise all three are replaced (clients must then trust the new
// ca.pem). Concurrent callers on one directory are serialised with a lock file
// on Unix systems. Never use these certificates in production.
package tlsconfig
