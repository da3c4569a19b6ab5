package privacypass

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/blindlist/blindlist/internal/store"
)

// Paths of the issuer endpoints, as Apple's example service serves them.
const (
	DirectoryPath = "/.well-known/private-token-issuer-directory"
	TokenKeyPath  = "/token-key-for-user-token"
	IssuePath     = IssuerRequestURI
)

// Content types (RFC 9578 §6.1, §6.2, and Hummingbird's JSON encoder for the
// directory, which Apple's example uses instead of
// application/private-token-issuer-directory).
const (
	ContentTypeTokenRequest  = "application/private-token-request"
	ContentTypeTokenResponse = "application/private-token-response"
	contentTypeJSON          = "application/json; charset=utf-8"
)

// Handler serves the issuer endpoints (pir-spec §8.3):
//
//   - GET  /.well-known/private-token-issuer-directory: the directory JSON, 200.
//   - GET  /token-key-for-user-token, "Authorization: Bearer <user token>":
//     the raw SPKI of the tier's current key, 200, no Content-Type (as Apple);
//     unknown user token 401.
//   - POST /issue, Bearer as above, body a 259-byte token request: 200 with
//     application/private-token-response and the 256-byte blind signature;
//     401 bad user token, 429 with Retry-After when this user token is over
//     its tier's [IssueLimit], 400 short body, 413 longer body, 422 wrong
//     type, unknown key id for the tier, or blinded message out of range.
//
// Error bodies are Apple's JSON {"error":{"message":"…"}}. Nothing about a
// request is logged.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DirectoryPath, s.serveDirectory)
	mux.HandleFunc("GET "+TokenKeyPath, s.serveTokenKey)
	mux.HandleFunc("POST "+IssuePath, s.serveIssue)
	return mux
}

func (s *Service) serveDirectory(w http.ResponseWriter, r *http.Request) {
	body := s.ring.Load().directory(IssuerRequestURI, s.now(), s.voidBefore())
	w.Header().Set("Content-Type", contentTypeJSON)
	_, _ = w.Write(body)
}

func (s *Service) serveTokenKey(w http.ResponseWriter, r *http.Request) {
	tier, _, err := s.userTier(bearer(r))
	if err != nil {
		s.writeError(w, err)
		return
	}
	key, err := s.ring.Load().current(tier, s.now(), s.voidBefore())
	if err != nil {
		s.writeError(w, err)
		return
	}
	// Apple's service sets no Content-Type here; a nil entry stops net/http
	// from sniffing one.
	w.Header()["Content-Type"] = nil
	_, _ = w.Write(key.Public().SPKI())
}

func (s *Service) serveIssue(w http.ResponseWriter, r *http.Request) {
	tier, user, err := s.userTier(bearer(r))
	if err != nil {
		s.writeError(w, err)
		return
	}
	if ok, wait := s.limit.allow(user, tier, s.now()); !ok {
		// This user only; checked before any signing.
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		s.writeError(w, errRateLimited)
		return
	}
	// Read one byte past the request size to tell "too long" from "exact".
	body, err := io.ReadAll(io.LimitReader(r.Body, TokenRequestSize+1))
	if err != nil {
		s.writeError(w, errBodyRead)
		return
	}
	if len(body) > TokenRequestSize {
		s.writeError(w, errBodyTooLarge)
		return
	}
	resp, err := s.ring.Load().issue(tier, body, s.now(), s.voidBefore())
	if err != nil {
		s.writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", ContentTypeTokenResponse)
	_, _ = w.Write(resp)
}

// bearer returns the user token of an "Authorization: Bearer" header, or "".
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return tok
}

var (
	errBodyRead     = errors.New("privacypass: reading request body")
	errBodyTooLarge = errors.New("privacypass: request body too large")
	errRateLimited  = errors.New("privacypass: user token over its issuance rate")
)

// StatusFor maps an error of this package to the HTTP status and the message
// Apple's service answers with (pir-spec §8.2, §8.3). Unknown errors are 500.
func StatusFor(err error) (status int, message string) {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, "User token is unauthorized"
	case errors.Is(err, ErrRequestSize):
		return http.StatusBadRequest, "Invalid token request size"
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, "Request body too large"
	case errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests, "Too Many Requests"
	case errors.Is(err, errBodyRead):
		return http.StatusBadRequest, "Could not read request body"
	case errors.Is(err, ErrRequestTokenType):
		return http.StatusUnprocessableEntity, "Invalid token type"
	case errors.Is(err, ErrRequestKeyID):
		return http.StatusUnprocessableEntity, "Invalid token key id"
	case errors.Is(err, ErrBlindedMessage):
		return http.StatusUnprocessableEntity, "Invalid blinded message"
	case errors.Is(err, ErrNoToken):
		return http.StatusUnauthorized, "No private token"
	case errors.Is(err, ErrTokenSize):
		return http.StatusBadRequest, "Invalid token size"
	case errors.Is(err, ErrUnknownKey):
		return http.StatusUnauthorized, "No token key found with key id"
	case errors.Is(err, ErrTokenType), errors.Is(err, ErrBadSignature), errors.Is(err, ErrTokenSpent):
		return http.StatusUnauthorized, "Token did not pass verification"
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, ErrNoActiveKey):
		// The spent-token store is away: nothing is accepted, try later.
		return http.StatusServiceUnavailable, "Service Unavailable"
	default:
		return http.StatusInternalServerError, "Internal server error"
	}
}

// writeError writes Apple's JSON error body. Server errors are logged with
// the error text, which never contains request data.
func (s *Service) writeError(w http.ResponseWriter, err error) {
	status, msg := StatusFor(err)
	if status == http.StatusInternalServerError {
		s.log.Error("privacy pass request failed", "err", err)
	}
	body, _ := json.Marshal(map[string]map[string]string{"error": {"message": msg}})
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		// Jittered, so devices turned away together come back apart.
		w.Header().Set("Retry-After", strconv.Itoa(2+rand.IntN(9)))
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// tierKey is the context key of the redeemed token's tier.
type tierKey struct{}

// TierFromContext returns the tier [Service.Middleware] stored for the
// request.
func TierFromContext(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(tierKey{}).(string)
	return t, ok
}

// Authenticate redeems the token of r's Authorization header and returns its
// tier. Errors map to statuses with [StatusFor].
func (s *Service) Authenticate(r *http.Request) (string, error) {
	tok, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "", err
	}
	return s.Verify(r.Context(), tok)
}

// Middleware requires a valid, unspent token on every request, as Apple's
// service does on /config, /key, /queries and /report, and passes the
// token's tier to next in the request context ([TierFromContext]).
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tier, err := s.Authenticate(r)
		if err != nil {
			s.writeError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tierKey{}, tier)))
	})
}
