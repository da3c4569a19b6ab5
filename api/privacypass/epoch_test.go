package privacypass

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/store/redistest"
)

// memNote is an EpochNote in memory; the production one is a file beside
// the issuer keys (api.IssuerKeyDir), tested there.
type memNote struct{ id string }

func (n *memNote) LoadEpoch() (string, error) { return n.id, nil }
func (n *memNote) SaveEpoch(id string) error  { n.id = id; return nil }

// TestVerifyAfterSpentStoreLoss empties a real Redis under the service
// (FLUSHALL) after a token was spent: the replay is refused (today's code
// accepted it), the keys that started before the loss are void (no
// issuance, not in the directory, token key 503 until a new key starts),
// OnEpoch asks for a rotation, and tokens of the new key work once. A
// restarted service whose note remembers the epoch finds a second loss at
// startup, before any token is presented.
func TestVerifyAfterSpentStoreLoss(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Client(t)
	spent, err := store.NewRedis(c, "loss:").SpentSet(SpentNamespace, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keys := freshKeys(t, 2)
	old := KeySpec{Key: keys[0], Tier: "tier1", NotBefore: time.Now().Add(-time.Hour).Truncate(time.Second)}
	ring, err := NewKeyring([]KeySpec{old})
	if err != nil {
		t.Fatal(err)
	}
	note := &memNote{}
	var rotations []time.Time
	cfg := Config{Keyring: ring, UserTokens: map[string]string{"user": "tier1"}, Spent: spent, EpochNote: note,
		OnEpoch: func(since time.Time) { rotations = append(rotations, since) }}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if since, err := svc.SpentEpoch(ctx); err != nil || !since.IsZero() || note.id == "" {
		t.Fatalf("first start on an empty store: since %v, %v, note %q; want a new store, nothing void, the epoch noted", since, err, note.id)
	}
	tok := mintToken(t, keys[0])
	if _, err := svc.Verify(ctx, tok); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := svc.Verify(ctx, tok); !errors.Is(err, ErrTokenSpent) {
		t.Fatalf("replay: %v, want ErrTokenSpent", err)
	}

	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := svc.Verify(ctx, tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("replay after FLUSHALL: %v, want ErrUnknownKey (the key is void)", err)
	}
	if _, err := svc.Verify(ctx, mintToken(t, keys[0])); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a new token of the void key: %v, want ErrUnknownKey", err)
	}
	if len(rotations) != 1 || rotations[0].Before(before) {
		t.Fatalf("OnEpoch calls %v, want one since the loss (%v)", rotations, before)
	}
	since := rotations[0]
	if !svc.VoidBefore().Equal(since) {
		t.Errorf("VoidBefore %v, want %v", svc.VoidBefore(), since)
	}

	h := httptest.NewServer(svc.Handler())
	defer h.Close()
	if resp, _ := do(t, http.MethodGet, h.URL+TokenKeyPath, "Bearer user", nil); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("token key with only void keys: %d, want 503 with Retry-After", resp.StatusCode)
	}
	if _, body := do(t, http.MethodGet, h.URL+DirectoryPath, "", nil); len(body) != len(MarshalDirectory(IssuerRequestURI, nil)) {
		t.Errorf("directory lists a void key: %s", body)
	}

	// The rotation OnEpoch asks for: a key starting at the epoch.
	fresh := KeySpec{Key: keys[1], Tier: "tier1", NotBefore: since}
	ring2, err := NewKeyring([]KeySpec{old, fresh})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetKeyring(ring2)
	if resp, _ := do(t, http.MethodGet, h.URL+TokenKeyPath, "Bearer user", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("token key after the rotation: %d", resp.StatusCode)
	}
	tok2 := mintToken(t, keys[1])
	if _, err := svc.Verify(ctx, tok2); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if _, err := svc.Verify(ctx, tok2); !errors.Is(err, ErrTokenSpent) {
		t.Fatalf("its replay: %v", err)
	}

	// A restart after a second loss: the note tells it at startup.
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	cfg.Keyring = ring2
	restarted, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	since2, err := restarted.SpentEpoch(ctx)
	if err != nil || !since2.After(since) {
		t.Fatalf("restart after a loss: since %v, %v; want a new epoch after %v", since2, err, since)
	}
	if _, err := restarted.Verify(ctx, tok2); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("replay after the second loss: %v, want ErrUnknownKey", err)
	}
}
