package api

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/store"
)

const replicaTier = "example/tier1"

// keyPool hands out pre-generated issuer keys (RSA key generation is slow
// under -race), then new ones.
type keyPool struct {
	mu   sync.Mutex
	keys []*privacypass.PrivateKey
}

func newKeyPool(t *testing.T, n int) *keyPool {
	p := &keyPool{}
	for range n {
		k, err := privacypass.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		p.keys = append(p.keys, k)
	}
	return p
}

func (p *keyPool) generate() (*privacypass.PrivateKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.keys) == 0 {
		return privacypass.GenerateKey()
	}
	k := p.keys[0]
	p.keys = p.keys[1:]
	return k, nil
}

// issuerReplica is one `serve` replica's issuer on a real loopback server:
// its own IssuerKeyDir on the shared directory, its own clock reading.
type issuerReplica struct {
	t   *testing.T
	dir *IssuerKeyDir
	svc *privacypass.Service
	srv *httptest.Server
	now *atomic.Int64 // unix seconds, shared by the replicas
}

func newIssuerReplica(t *testing.T, keyDir string, pool *keyPool, now *atomic.Int64) *issuerReplica {
	t.Helper()
	b, err := store.OpenBolt(filepath.Join(t.TempDir(), "spent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	spent, err := b.SpentSet(privacypass.SpentNamespace, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := &issuerReplica{t: t, now: now, dir: &IssuerKeyDir{Dir: keyDir, Lifetime: 10 * time.Hour, Overlap: 48 * time.Hour,
		PublishAhead: time.Hour, Generate: pool.generate}}
	ring, err := r.dir.Keyring([]string{replicaTier}, r.clock())
	if err != nil {
		t.Fatal(err)
	}
	r.svc, err = privacypass.New(privacypass.Config{Keyring: ring, Spent: spent, Now: r.clock,
		UserTokens: map[string]string{"user-token": replicaTier}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", r.svc.Handler())
	mux.Handle("POST /check", r.svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tier, _ := privacypass.TierFromContext(req.Context())
		io.WriteString(w, tier)
	})))
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *issuerReplica) clock() time.Time { return time.Unix(r.now.Load(), 0) }

// reload is the replica's periodic tick: re-read the directory.
func (r *issuerReplica) reload() {
	r.t.Helper()
	ring, err := r.dir.Keyring([]string{replicaTier}, r.clock())
	if err != nil {
		r.t.Fatal(err)
	}
	r.svc.SetKeyring(ring)
}

func (r *issuerReplica) do(method, path, auth string, body []byte) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// token plays the device against this replica's issuer: fetch the tier's
// key, have a blinded request signed, finalize. It returns the token and
// its key id.
func (r *issuerReplica) token() ([]byte, [32]byte) {
	r.t.Helper()
	code, spki := r.do(http.MethodGet, privacypass.TokenKeyPath, "Bearer user-token", nil)
	if code != http.StatusOK {
		r.t.Fatalf("token key: %d %s", code, spki)
	}
	pub, err := privacypass.ParsePublicKey(spki)
	if err != nil {
		r.t.Fatal(err)
	}
	pending, req, err := privacypass.NewTokenRequest(rand.Reader, pub, []byte("challenge"))
	if err != nil {
		r.t.Fatal(err)
	}
	code, resp := r.do(http.MethodPost, privacypass.IssuePath, "Bearer user-token", req)
	if code != http.StatusOK {
		r.t.Fatalf("issue: %d %s", code, resp)
	}
	tok, err := pending.Finalize(resp)
	if err != nil {
		r.t.Fatal(err)
	}
	return tok, pub.ID()
}

// redeem presents tok to this replica's token check.
func (r *issuerReplica) redeem(tok []byte) (int, string) {
	r.t.Helper()
	code, body := r.do(http.MethodPost, "/check", privacypass.Authorization(tok), nil)
	return code, string(body)
}

// directory returns the not-before of each published key.
func (r *issuerReplica) directory() []int64 {
	r.t.Helper()
	code, body := r.do(http.MethodGet, privacypass.DirectoryPath, "", nil)
	if code != http.StatusOK {
		r.t.Fatalf("directory: %d %s", code, body)
	}
	var d struct {
		Keys []struct {
			NotBefore int64 `json:"not-before"`
		} `json:"token-keys"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		r.t.Fatal(err)
	}
	var out []int64
	for _, k := range d.Keys {
		out = append(out, k.NotBefore)
	}
	return out
}

// TestIssuerKeyRotationAcrossReplicas runs two replicas that share one key
// directory and reload it on their own ticks (one reload interval = 1 min,
// publish-ahead 1 h). When replica A writes the successor key, replica B
// has not reloaded yet; the successor must not sign before B knows it, so
// every token A issues is accepted by B, before, during and after the
// rotation.
func TestIssuerKeyRotationAcrossReplicas(t *testing.T) {
	const reloadEvery = time.Minute
	dir := filepath.Join(t.TempDir(), "issuer-keys")
	pool := newKeyPool(t, 2)
	var now atomic.Int64
	t0 := time.Unix(1_800_000_000, 0)
	set := func(at time.Time) { now.Store(at.Unix()) }
	set(t0)
	a := newIssuerReplica(t, dir, pool, &now)
	set(t0.Add(20 * time.Second))
	b := newIssuerReplica(t, dir, pool, &now)
	redeemAtB := func(what string, tok []byte) {
		t.Helper()
		if code, body := b.redeem(tok); code != http.StatusOK || body != replicaTier {
			t.Fatalf("%s: replica B answered %d %q, want 200 %q", what, code, body, replicaTier)
		}
	}
	tok, k1 := a.token()
	redeemAtB("first key", tok)

	// A's tick comes first once the lifetime (10 h) minus the
	// publish-ahead is reached: A writes the successor. B reloads only a
	// reload interval later.
	t1 := t0.Add(9*time.Hour + 5*time.Second)
	set(t1)
	a.reload()
	tok, id := a.token()
	if id != k1 {
		t.Fatal("replica A signs with the successor as soon as it wrote it")
	}
	redeemAtB("token of A right after A wrote the successor", tok)
	oldTok, _ := a.token() // kept by the device, redeemed after the rotation
	if got := a.directory(); len(got) != 2 || got[1] != t1.Add(time.Hour).Unix() {
		t.Errorf("A's directory not-before %v, want the successor published with not-before %d", got, t1.Add(time.Hour).Unix())
	}
	set(t1.Add(reloadEvery))
	b.reload()
	if got := b.directory(); len(got) != 2 {
		t.Errorf("B's directory lists %d keys after its reload, want 2 (the successor published ahead)", len(got))
	}

	// The successor starts signing: B, whose last reload was long before,
	// accepts its tokens; the old key's tokens stay valid for the overlap.
	s := t1.Add(time.Hour)
	set(s)
	tok, k2 := a.token()
	if k2 == k1 {
		t.Fatal("replica A still signs with the old key after the successor's not-before")
	}
	redeemAtB("token of the successor key", tok)
	btok, bid := b.token()
	if bid != k2 {
		t.Error("replica B does not sign with the successor at its not-before")
	}
	if code, _ := a.redeem(btok); code != http.StatusOK {
		t.Errorf("replica A refused B's token of the successor: %d", code)
	}
	set(s.Add(8 * time.Hour))
	b.reload()
	redeemAtB("token of the old key within the overlap", oldTok)
	if files, _ := filepath.Glob(filepath.Join(dir, "*.pem")); len(files) != 2 {
		t.Errorf("%d key files, want 2: %v", len(files), files)
	}
}

// TestIssuerKeyDirConcurrentCreate: replicas that start (or tick) at the
// same moment on a shared directory make one key, not one each: the
// directory is changed under its lock after a re-read.
func TestIssuerKeyDirConcurrentCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "issuer-keys")
	pool := newKeyPool(t, 8)
	t0 := time.Unix(1_800_000_000, 0)
	for _, at := range []time.Time{t0, t0.Add(9*time.Hour + time.Minute)} { // start, then rotation
		const replicas = 4
		rings := make([]*privacypass.Keyring, replicas)
		var wg sync.WaitGroup
		for i := range replicas {
			wg.Go(func() {
				d := &IssuerKeyDir{Dir: dir, Lifetime: 10 * time.Hour, Overlap: 24 * time.Hour, PublishAhead: time.Hour, Generate: pool.generate}
				r, err := d.Keyring([]string{replicaTier}, at)
				if err != nil {
					t.Error(err)
				}
				rings[i] = r
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		for i, r := range rings {
			if !sameKeys(r, rings[0]) {
				t.Errorf("at %v replica %d holds other keys than replica 0", at, i)
			}
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.pem")); len(files) != 2 {
		t.Errorf("%d key files after a start and a rotation, want 2: %v", len(files), files)
	}
}

func sameKeys(a, b *privacypass.Keyring) bool {
	ka, kb := a.Keys(), b.Keys()
	if len(ka) != len(kb) {
		return false
	}
	for i := range ka {
		if ka[i].Key.Public().ID() != kb[i].Key.Public().ID() || !ka[i].NotBefore.Equal(kb[i].NotBefore) {
			return false
		}
	}
	return true
}

// TestIssuerKeyDirLateSuccessor: a deployment that was down when a
// successor was due publishes it ahead for as long as the signing key
// still issues (a day before it retires), and signs with a new key at once
// when it no longer does: in every case some key signs at every moment
// until the next reload.
func TestIssuerKeyDirLateSuccessor(t *testing.T) {
	pool := newKeyPool(t, 4)
	t0 := time.Unix(1_800_000_000, 0)
	const lifetime, overlap, ahead = 10 * time.Hour, 48 * time.Hour, time.Hour
	for _, tc := range []struct {
		name      string
		restart   time.Duration // after the first key's start
		wantAhead bool          // successor published ahead, not signing at once
	}{
		{"on time", lifetime - ahead, true},
		{"late", lifetime + 20*time.Hour, true},
		{"publish-ahead shortened to the old key's last 30 min of issuing", lifetime + overlap - deviceTokenLifetime - 30*time.Minute, true},
		{"after the old key stopped issuing", lifetime + overlap - deviceTokenLifetime + time.Hour, false},
		{"after the old key retired", lifetime + overlap + time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &IssuerKeyDir{Dir: t.TempDir(), Lifetime: lifetime, Overlap: overlap, PublishAhead: ahead, Generate: pool.generate}
			ring, err := d.Keyring([]string{replicaTier}, t0)
			if err != nil {
				t.Fatal(err)
			}
			first, _ := ring.Current(replicaTier, t0)
			at := t0.Add(tc.restart)
			if ring, err = d.Keyring([]string{replicaTier}, at); err != nil {
				t.Fatal(err)
			}
			cur, err := ring.Current(replicaTier, at)
			if err != nil {
				t.Fatal(err)
			}
			if signsOld := cur.Public().ID() == first.Public().ID(); signsOld != tc.wantAhead {
				t.Errorf("at restart the first key signs: %v, want %v", signsOld, tc.wantAhead)
			}
			for step := time.Duration(0); step <= 2*ahead; step += 10 * time.Minute {
				k, err := ring.Current(replicaTier, at.Add(step))
				if err != nil {
					t.Fatalf("no signing key %v after the restart: %v", step, err)
				}
				if tc.wantAhead && step >= ahead && k.Public().ID() == first.Public().ID() {
					t.Errorf("first key still signs %v after the restart", step)
				}
			}
		})
	}
}
