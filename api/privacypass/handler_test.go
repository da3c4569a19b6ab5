package privacypass

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/internal/testvec"
)

// do sends one request to the loopback server.
func do(t *testing.T, method, url, auth string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", ContentTypeTokenRequest)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func errorMessage(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q is not Apple's JSON: %v", body, err)
	}
	return e.Error.Message
}

// TestHandlerFlow runs the device's sequence against a real loopback server:
// directory, token key, issuance (Apple's vector request), then redemption
// through the middleware.
func TestHandlerFlow(t *testing.T) {
	k := vectorKey(t)
	svc := newTestService(t, []KeySpec{{Key: k, Tier: "tier1"}}, map[string]string{"AAAA": "tier1"}, nil)
	mux := http.NewServeMux()
	mux.Handle("/", svc.Handler())
	mux.Handle("POST /queries", svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tier, _ := TierFromContext(r.Context())
		_, _ = io.WriteString(w, "ok "+tier)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, body := do(t, "GET", srv.URL+DirectoryPath, "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, testvec.Read(t, "privacypass", "issuer_directory.json")) {
		t.Fatalf("directory: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != contentTypeJSON {
		t.Errorf("directory Content-Type %q", ct)
	}

	resp, body = do(t, "GET", srv.URL+TokenKeyPath, "Bearer AAAA", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, testvec.Read(t, "privacypass", "token_key_spki.der")) {
		t.Fatalf("token key: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = do(t, "GET", srv.URL+TokenKeyPath, "Bearer ZZZZ", nil)
	if resp.StatusCode != 401 || errorMessage(t, body) != "User token is unauthorized" {
		t.Fatalf("token key with a bad user token: %d %s", resp.StatusCode, body)
	}

	reqBody := testvec.Read(t, "privacypass", "token_request_1.bin")
	resp, body = do(t, "POST", srv.URL+IssuePath, "Bearer AAAA", reqBody)
	if resp.StatusCode != 200 || !bytes.Equal(body, testvec.Read(t, "privacypass", "token_response_1.bin")) {
		t.Fatalf("issue: %d, %d bytes", resp.StatusCode, len(body))
	}
	if ct := resp.Header.Get("Content-Type"); ct != ContentTypeTokenResponse {
		t.Errorf("issue Content-Type %q", ct)
	}

	// Issuance refusals with Apple's status codes.
	wrongType := bytes.Clone(reqBody)
	wrongType[1] = 1
	wrongKey := bytes.Clone(reqBody)
	wrongKey[2]++
	for _, c := range []struct {
		name, auth string
		body       []byte
		status     int
	}{
		{"no bearer", "", reqBody, 401},
		{"unknown bearer", "Bearer BBBB", reqBody, 401},
		{"short body", "Bearer AAAA", reqBody[:258], 400},
		{"empty body", "Bearer AAAA", []byte{}, 400},
		{"long body", "Bearer AAAA", append(bytes.Clone(reqBody), 0), 413},
		{"wrong type", "Bearer AAAA", wrongType, 422},
		{"wrong key id", "Bearer AAAA", wrongKey, 422},
	} {
		resp, body := do(t, "POST", srv.URL+IssuePath, c.auth, c.body)
		if resp.StatusCode != c.status {
			t.Errorf("issue %s: status %d, want %d (%s)", c.name, resp.StatusCode, c.status, body)
		}
	}
	if resp, _ := do(t, "GET", srv.URL+IssuePath, "Bearer AAAA", nil); resp.StatusCode != 405 {
		t.Errorf("GET /issue: %d, want 405", resp.StatusCode)
	}

	// Redemption through the middleware.
	auth := Authorization(testvec.Read(t, "privacypass", "token_2.bin"))
	resp, body = do(t, "POST", srv.URL+"/queries", auth, []byte("q"))
	if resp.StatusCode != 200 || string(body) != "ok tier1" {
		t.Fatalf("first redemption: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "POST", srv.URL+"/queries", auth, []byte("q"))
	if resp.StatusCode != 401 || errorMessage(t, body) != "Token did not pass verification" {
		t.Fatalf("replay: %d %s", resp.StatusCode, body)
	}
	foreign := mintToken(t, freshKeys(t, 1)[0])
	short := testvec.Read(t, "privacypass", "token_0.bin")[:300]
	for _, c := range []struct {
		name, auth, msg string
		status          int
	}{
		{"no header", "", "No private token", 401},
		{"bearer", "Bearer AAAA", "No private token", 401},
		{"undecodable", "PrivateToken token=%%%", "No private token", 401},
		{"short token", Authorization(short), "Invalid token size", 400},
		{"foreign key", Authorization(foreign), "No token key found with key id", 401},
	} {
		resp, body := do(t, "POST", srv.URL+"/queries", c.auth, []byte("q"))
		if resp.StatusCode != c.status || errorMessage(t, body) != c.msg {
			t.Errorf("%s: %d %s, want %d %q", c.name, resp.StatusCode, body, c.status, c.msg)
		}
	}
}

// TestHandlerIssueRoundTrip issues through HTTP for a fresh key and redeems.
func TestHandlerIssueRoundTrip(t *testing.T) {
	k := freshKeys(t, 1)[0]
	svc := newTestService(t, []KeySpec{{Key: k, Tier: "tier2"}}, map[string]string{"CCCC": "tier2"}, nil)
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	_, spki := do(t, "GET", srv.URL+TokenKeyPath, "Bearer CCCC", nil)
	pub, err := ParsePublicKey(spki)
	if err != nil {
		t.Fatal(err)
	}
	p, req, err := NewTokenRequest(rand.Reader, pub, []byte("challenge"))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, "POST", srv.URL+IssuePath, "Bearer CCCC", req)
	if resp.StatusCode != 200 {
		t.Fatalf("issue: %d %s", resp.StatusCode, body)
	}
	tok, err := p.Finalize(body)
	if err != nil {
		t.Fatal(err)
	}
	if tier, err := svc.Verify(context.Background(), tok); err != nil || tier != "tier2" {
		t.Fatalf("Verify = %q, %v", tier, err)
	}
}

func TestSetUserTokensRefusesUnknownTier(t *testing.T) {
	svc := newTestService(t, []KeySpec{{Key: vectorKey(t), Tier: "tier1"}}, nil, nil)
	if err := svc.SetUserTokens(map[string]string{"X": "tier9"}); err == nil || !strings.Contains(err.Error(), "tier9") {
		t.Fatalf("SetUserTokens with an unknown tier: %v", err)
	}
}
