package privacypass

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestIssueLimitPerUser: the issuance limit is per user token. One user of
// a tier over its burst gets 429 with Retry-After on /issue, before any
// signing; another user of the same tier is still served, and the first is
// served again once its bucket refills (a fixed clock moved by hand). A
// tier without a limit is not limited.
func TestIssueLimitPerUser(t *testing.T) {
	k := freshKeys(t, 1)[0]
	now := time.Unix(1_800_000_000, 0)
	ring, err := NewKeyring([]KeySpec{{Key: k, Tier: "tier1"}})
	if err != nil {
		t.Fatal(err)
	}
	db, spent := newBoltSpent(t, filepath.Join(t.TempDir(), "spent.db"))
	t.Cleanup(func() { _ = db.Close() })
	svc, err := New(Config{Keyring: ring, Spent: spent, Now: func() time.Time { return now },
		UserTokens:  map[string]string{"alice": "tier1", "bob": "tier1"},
		IssueLimits: map[string]IssueLimit{"tier1": {PerSecond: 0.5, Burst: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	issue := func(user string) *http.Response {
		t.Helper()
		_, req, err := NewTokenRequest(rand.Reader, k.Public(), []byte("challenge"))
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := do(t, http.MethodPost, srv.URL+IssuePath, "Bearer "+user, req)
		return resp
	}
	for i := range 3 {
		if resp := issue("alice"); resp.StatusCode != http.StatusOK {
			t.Fatalf("alice's token %d within the burst: %d", i, resp.StatusCode)
		}
	}
	resp := issue("alice")
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || err != nil || ra < 1 || ra > 3 {
		t.Fatalf("alice over the burst: %d, Retry-After %q; want 429 with the 2 s refill", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for i := range 3 {
		if resp := issue("bob"); resp.StatusCode != http.StatusOK {
			t.Fatalf("bob's token %d while alice is limited: %d, want 200 (limits are per user)", i, resp.StatusCode)
		}
	}
	now = now.Add(2 * time.Second)
	if resp := issue("alice"); resp.StatusCode != http.StatusOK {
		t.Errorf("alice after the refill: %d", resp.StatusCode)
	}
	if resp := issue("alice"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("alice again at once: %d, want 429", resp.StatusCode)
	}
}

func TestIssueLimitRefuses(t *testing.T) {
	for name, lim := range map[string]IssueLimit{"negative": {PerSecond: -1, Burst: 1}, "no burst": {PerSecond: 1}} {
		if _, err := newIssueLimiter(map[string]IssueLimit{"t": lim}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
