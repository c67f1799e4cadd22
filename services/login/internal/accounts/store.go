package accounts

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BucketName is the JetStream KV bucket holding the accounts.
const BucketName = "realm_accounts"

// idKeyPrefix prefixes the keys that reserve account ids ("id.<decimal>",
// value = the name key). A name never contains '.', so the two key spaces of
// the bucket cannot collide.
const idKeyPrefix = "id."

// maxIDAttempts bounds the retries when a random account id is taken.
const maxIDAttempts = 8

var (
	// ErrNameTaken means Register found the name (ignoring case) already
	// registered.
	ErrNameTaken = errors.New("accounts: name taken")
	// ErrInvalidCredentials means Verify found no account with that name or
	// a different password; the two cases are indistinguishable on purpose.
	ErrInvalidCredentials = errors.New("accounts: invalid credentials")
)

// Config configures a Store. The zero value means the defaults.
type Config struct {
	// Replicas is the number of copies JetStream keeps of the bucket in a
	// cluster (1 to 5). Zero means 1.
	Replicas int
	// Params is the argon2id cost of new hashes. Zero means DefaultParams.
	Params Params
	// MaxConcurrentHashes bounds how many argon2id hashes run at once (each
	// holds Params.MemoryKiB of memory). Zero means runtime.GOMAXPROCS(0).
	MaxConcurrentHashes int
}

func (c *Config) fill() error {
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		return fmt.Errorf("accounts: replicas %d not in 1..5", c.Replicas)
	}
	if c.Params == (Params{}) {
		c.Params = DefaultParams
	}
	if err := c.Params.validate(); err != nil {
		return err
	}
	if c.MaxConcurrentHashes == 0 {
		c.MaxConcurrentHashes = runtime.GOMAXPROCS(0)
	}
	if c.MaxConcurrentHashes < 0 {
		return fmt.Errorf("accounts: max concurrent hashes %d < 0", c.MaxConcurrentHashes)
	}
	return nil
}

// Store registers and verifies accounts. It is safe for concurrent use.
type Store struct {
	kv     jetstream.KeyValue
	params Params
	h      *hasher
	dummy  Record // verified against for unknown names: same work, never matches
}

// Open creates the bucket if it does not exist (file storage, cfg.Replicas
// copies, one revision per key) or binds to it, and returns a Store.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       BucketName,
		Description:  "Realm accounts: name -> argon2id record (services/login/internal/accounts)",
		History:      1,
		Storage:      jetstream.FileStorage,
		Replicas:     cfg.Replicas,
		MaxValueSize: 1024,
	})
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", BucketName, err)
	}
	s := &Store{kv: kv, params: cfg.Params, h: newHasher(cfg.MaxConcurrentHashes)}
	s.dummy = Record{ID: 1, Params: cfg.Params, Salt: make([]byte, SaltSize), Hash: make([]byte, HashSize)}
	if _, err := rand.Read(s.dummy.Salt); err != nil {
		return nil, fmt.Errorf("dummy salt: %w", err)
	}
	if _, err := rand.Read(s.dummy.Hash); err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	return s, nil
}

// Params returns the argon2id cost of new hashes.
func (s *Store) Params() Params { return s.params }

// Status checks that the bucket is reachable (one JetStream request).
func (s *Store) Status(ctx context.Context) error {
	if _, err := s.kv.Status(ctx); err != nil {
		return fmt.Errorf("bucket %s: %w", BucketName, err)
	}
	return nil
}

// Register creates an account and returns it once it is stored: the name
// and password are checked (ErrInvalidName, ErrInvalidPassword), the
// password is hashed with a fresh salt, a random account id is reserved, and
// the record is created with KV Create, so a name registered concurrently
// elsewhere yields ErrNameTaken. ctx bounds the wait for a hash slot and the
// KV requests.
func (s *Store) Register(ctx context.Context, name, password string) (Record, error) {
	if err := ValidateName(name); err != nil {
		return Record{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return Record{}, err
	}
	key := nameKey(name)
	// Cheap early answer for a taken name: it spares a hash. Create below
	// still decides.
	if _, err := s.kv.Get(ctx, key); err == nil {
		return Record{}, ErrNameTaken
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return Record{}, fmt.Errorf("get %s: %w", key, err)
	}
	r := Record{Name: name, Created: time.Now(), Params: s.params, Salt: make([]byte, SaltSize)}
	if _, err := rand.Read(r.Salt); err != nil {
		return Record{}, fmt.Errorf("salt: %w", err)
	}
	var err error
	if r.Hash, err = s.h.hash(ctx, []byte(password), r.Salt, s.params, HashSize); err != nil {
		return Record{}, err
	}
	idKey, idRev, err := s.reserveID(ctx, &r, key)
	if err != nil {
		return Record{}, err
	}
	val, err := r.MarshalBinary()
	if err != nil {
		return Record{}, err
	}
	if _, err := s.kv.Create(ctx, key, val); err != nil {
		// Give the id back; if that fails the id just stays unused.
		_ = s.kv.Delete(context.WithoutCancel(ctx), idKey, jetstream.LastRevision(idRev))
		if errors.Is(err, jetstream.ErrKeyExists) {
			return Record{}, ErrNameTaken
		}
		return Record{}, fmt.Errorf("create %s: %w", key, err)
	}
	return r, nil
}

// reserveID picks a random non-zero account id that no other account holds
// and reserves it with KV Create; it sets r.ID.
func (s *Store) reserveID(ctx context.Context, r *Record, nameKey string) (string, uint64, error) {
	var b [8]byte
	for range maxIDAttempts {
		if _, err := rand.Read(b[:]); err != nil {
			return "", 0, fmt.Errorf("account id: %w", err)
		}
		id := binary.BigEndian.Uint64(b[:])
		if id == 0 {
			continue
		}
		idKey := idKeyPrefix + strconv.FormatUint(id, 10)
		rev, err := s.kv.Create(ctx, idKey, []byte(nameKey))
		if errors.Is(err, jetstream.ErrKeyExists) {
			continue
		}
		if err != nil {
			return "", 0, fmt.Errorf("reserve account id: %w", err)
		}
		r.ID = id
		return idKey, rev, nil
	}
	return "", 0, fmt.Errorf("reserve account id: %d attempts collided", maxIDAttempts)
}

// Verify returns the account if name exists and password matches it, and
// ErrInvalidCredentials otherwise, after the same work either way (see the
// package doc). Other errors (NATS, a corrupt record: ErrBadRecord) are
// returned wrapped.
func (s *Store) Verify(ctx context.Context, name, password string) (Record, error) {
	rec := &s.dummy
	var stored Record
	if ValidateName(name) == nil && ValidatePassword(password) == nil {
		e, err := s.kv.Get(ctx, nameKey(name))
		switch {
		case err == nil:
			if err := stored.UnmarshalBinary(e.Value()); err != nil {
				return Record{}, fmt.Errorf("account %s: %w", nameKey(name), err)
			}
			rec = &stored
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return Record{}, fmt.Errorf("get %s: %w", nameKey(name), err)
		}
	}
	ok, err := s.h.verify(ctx, rec, []byte(password))
	if err != nil {
		return Record{}, err
	}
	if !ok || rec == &s.dummy {
		return Record{}, ErrInvalidCredentials
	}
	return stored, nil
}
