package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"

	"github.com/blindlist/blindlist/internal/store"
)

// Errors callers of this package branch on. Handlers wrap them with context;
// [statusOf] maps them to HTTP statuses.
var (
	// ErrKeyNotFound reports that no evaluation key is stored under a
	// (User-Identifier, key-config hash) pair (400 "Evaluation key not
	// found", as Apple's service).
	ErrKeyNotFound = errors.New("api: evaluation key not found")

	// ErrBadRequest marks an error caused by the request's content (a
	// malformed ciphertext, a shard index out of range, a key that does not
	// fit the configuration). A [Usecase] wraps its input errors with it so
	// that they become 400 instead of 500.
	ErrBadRequest = errors.New("api: bad request")

	// ErrOverloaded reports that the server could not start the work before
	// the request's deadline (all compute slots busy). It becomes 503 with a
	// Retry-After header.
	ErrOverloaded = errors.New("api: overloaded")
)

// httpError is an error whose status and client-visible message are decided
// where it is raised. The message is sent to the device in Apple's JSON
// envelope (pir-spec §8.2 item 5), so it must never contain a user
// identifier, a token, a key or query bytes. category is the constant metric
// label.
type httpError struct {
	status   int
	category string
	message  string
	err      error // optional cause, for logs only
}

func (e *httpError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("api: %s: %v", e.message, e.err)
	}
	return "api: " + e.message
}

func (e *httpError) Unwrap() error { return e.err }

// newHTTPError builds an [httpError]. message is shown to clients.
func newHTTPError(status int, category, message string) *httpError {
	return &httpError{status: status, category: category, message: message}
}

// Error categories: the only values of the "category" metric label.
const (
	catNone        = "none"
	catAuth        = "auth"
	catHeader      = "header"
	catBody        = "body"
	catTooLarge    = "too_large"
	catUsecase     = "usecase"
	catConfigGone  = "config_gone"
	catKeyMissing  = "key_missing"
	catBadQuery    = "bad_query"
	catKeyMismatch = "key_mismatch"
	catOverloaded  = "overloaded"
	catTimeout     = "timeout"
	catCanceled    = "canceled"
	catNotImpl     = "not_implemented"
	catSymmetric   = "symmetric_not_configured"
	catStore       = "store"
	catInternal    = "internal"
)

// classify maps any error a handler returns to the HTTP status, the metric
// category and the message the client sees. It is the only place that
// decides statuses.
func classify(err error) (status int, category, message string) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status, he.category, he.message
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, catTooLarge,
			fmt.Sprintf("Request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, ErrKeyNotFound):
		return http.StatusBadRequest, catKeyMissing, "Evaluation key not found"
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest, catBadQuery, "Invalid PIR request"
	case errors.Is(err, store.ErrUnavailable):
		// Fail closed: no token is accepted and no key is read while the
		// shared store is away; the device retries later.
		return http.StatusServiceUnavailable, catStore, http.StatusText(http.StatusServiceUnavailable)
	case errors.Is(err, ErrOverloaded):
		return http.StatusServiceUnavailable, catOverloaded, http.StatusText(http.StatusServiceUnavailable)
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, catTimeout, http.StatusText(http.StatusServiceUnavailable)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the status. 499 is nginx's
		// convention and keeps these out of the 5xx alerts.
		return 499, catCanceled, "Client closed request"
	default:
		return http.StatusInternalServerError, catInternal, http.StatusText(http.StatusInternalServerError)
	}
}

// Retry-After ranges, in seconds. The value is drawn at random in its range
// so that the devices turned away together do not all come back in the
// same second.
const (
	retryOverloadedMin, retryOverloadedMax = 1, 4  // compute slots or the queue full
	retryStoreMin, retryStoreMax           = 2, 10 // the shared store unreachable
)

// retryAfter returns the jittered Retry-After (seconds) for an error that
// [classify] maps to 503, and 0 for any other.
func retryAfter(err error) int {
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return retryStoreMin + rand.IntN(retryStoreMax-retryStoreMin+1)
	case errors.Is(err, ErrOverloaded), errors.Is(err, context.DeadlineExceeded):
		return retryOverloadedMin + rand.IntN(retryOverloadedMax-retryOverloadedMin+1)
	}
	return 0
}

// errorBody is Hummingbird's HTTPError JSON envelope, which the device logs
// verbatim ("server error ({"error":{"message":"Evaluation key not found"}})",
// CommonErrors.md).
type errorBody struct {
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
}

// writeError writes the status and Apple's JSON error envelope. 503 answers
// carry a Retry-After header.
func writeError(w http.ResponseWriter, status int, message string, retryAfterSeconds int) {
	var b errorBody
	b.Error.Message = message
	body, err := json.Marshal(b)
	if err != nil {
		// A struct of one string always marshals.
		panic("api: internal error: marshaling error body: " + err.Error())
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if retryAfterSeconds > 0 && (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) {
		h.Set("Retry-After", fmt.Sprint(retryAfterSeconds))
	}
	if status < 100 || status > 599 {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
