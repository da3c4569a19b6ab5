// Package ohttp implements an Oblivious HTTP gateway (RFC 9458) with a test
// relay and a client, for serving Apple's NEURLFilter through Apple's relay.
//
// For most uses: derive a [KeySet] from a stored seed ([LoadOrCreateSeed],
// [DeriveKeySet]), build a [Gateway] with [New] listing the allowed targets,
// and serve [Gateway.Handler]. Targets are ordinary http.Handlers: the
// service's own handler in the all-in-one mode, or [NewProxy] to forward over
// HTTP (HTTP/1.1, h2 or h2c). This package imports nothing else of
// blindlist. Binary HTTP (RFC 9292) lives in the bhttp subpackage.
//
// What the gateway does with a POST to [GatewayPath]:
//
//  1. checks the media type (message/ohttp-req) and the size cap;
//  2. decapsulates (RFC 9458 §4.3) with the key the header names;
//  3. decodes the binary HTTP request, in either framing;
//  4. forwards it to the target its authority names, if allowed;
//  5. encodes the target's response in the request's framing family and
//     encapsulates it (RFC 9458 §4.4) as message/ohttp-res.
//
// Failures in steps 1–2 are answered without protection, as RFC 9458 §5.2
// requires: 415, 413, or 400 (with the §5.3 "ohttp-key" problem document for
// an unknown key id, KEM or suite, so clients refetch the configuration).
// Failures from step 3 on travel inside a 200 message/ohttp-res: 400 for an
// invalid inner request, 417 for a 100-continue expectation (§5.1), 403 for a
// target outside the allow list, 502 for a response over the cap or a target
// that panicked (httputil.ReverseProxy aborts that way when an upstream body
// breaks off), 504 when that happened past the forward timeout. Clients see
// a status and nothing more. Metrics use a fixed set of result labels; logs
// carry only that label, never addresses, keys or payloads.
//
// # HPKE
//
// HPKE is Go's crypto/hpke (Go 1.26), not circl's: it is in the standard
// library and maintained with crypto/ecdh's constant-time X25519; it
// resolves algorithm ids with errors rather than circl's panicking Scheme();
// and it has the exporter and DeriveKeyPair RFC 9458 and seeded keys need.
// Its one limit is that senders draw their ephemeral key from crypto/rand,
// so a test cannot replay RFC 9458 Appendix A's client encryption; the
// known-answer test covers everything else (see testdata/README.md).
//
// Post-quantum: a gateway may offer MLKEM768-X25519 keys (KEM 0x647a of
// draft-ietf-hpke-pq, "X-Wing", [DeriveHybridKeySet]) after its X25519 ones.
// Clients that do not implement that KEM skip its configuration (RFC 9458
// §3.2) and keep using X25519; [SelectKeyConfig] prefers the hybrid. Requests
// to hybrid keys are opened with crypto/hpke.
//
// For X25519 keys the gateway side does not use crypto/hpke, which builds a fresh recipient
// context (and its HMAC states) per request and cannot open in place: it
// has its own minimal RFC 9180 base-mode recipient (recipient.go) for
// exactly these suites, with the X25519 key parsed once per key, the
// labeled HKDF written over a stack HMAC-SHA256, the key_schedule_context
// precomputed per key and AEAD (RFC 9458's info is fixed by the header),
// and the request opened in place into the body buffer. The client side
// ([EncapsulateRequest], [Client]) stays on crypto/hpke, so every round
// trip checks one against the other (TestRecipientMatchesHPKE). The
// response AEAD is used directly (RFC 9458 §4.4), from crypto/aes and
// golang.org/x/crypto/chacha20poly1305. Suites: DHKEM(X25519, HKDF-SHA256)
// with HKDF-SHA256 and AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305.
//
// # Memory per request
//
// The buffers a request needs (the encapsulated request, opened in place so
// that it becomes the binary HTTP request; the target's response content;
// the encapsulated response; field lists; the response context) live in a
// pooled exchange and are reused, up to 1 MiB each (a 10 MiB evaluation-key
// upload is left to the garbage collector). What a target handler may keep
// after it returns is allocated per request: the inner http.Request, its
// URL, header maps, and one string holding every header name and value
// (bhttp.Request.UnmarshalBinary). net/http forbids reading the body or
// writing the response after a handler returns, and an http.Transport may
// still be sending the body when RoundTrip has returned; a per-request guard
// turns both into errors, so no pooled byte of one request is ever visible
// to another. In steady state a request costs 14 allocations of the
// gateway's (12 with ChaCha20-Poly1305), about 4.6 KiB: seven are
// crypto/ecdh's and crypto/aes's per-message state, which their APIs give no
// way to reuse, and the rest are the objects above. BENCHMARKS.md has the numbers;
// TestGatewayAllocations holds the bound.
//
// # Keys and rotation
//
// Gateway keys are derived from a 32-byte seed with HKDF, one label per key
// id ([DeriveKey]), so a restart serves the same configuration: Apple
// provisions it out of band and never learns of a new one by itself. A
// [KeySet] has active keys (advertised and accepted) and retired keys
// (accepted only) for the overlap of a rotation; [Gateway.SetKeys] swaps
// sets without a restart.
//
// # Security considerations
//
// The seed is the gateway's long-term secret: [LoadOrCreateSeed] creates it
// 0600 and refuses a file others can read. HPKE opening uses crypto/ecdh's
// constant-time X25519 (which refuses the all-zero shared secret) and
// branches on no secret; the shared secret and key-schedule intermediates
// are zeroed after use; everything this package does before it
// depends only on the public header. The gateway is not an open proxy: only
// allow-listed authorities are forwarded to. It adds nothing that identifies
// the client (no RemoteAddr, no X-Forwarded-For) to inner requests. Request
// sizes are the client's; responses are padded with binary HTTP zero
// padding to a multiple of [Config.ResponsePadding] when it is set, so the
// relay, which sees sizes and client addresses, sees size buckets (a PIR
// answer's size depends only on the shard configuration, not on the query
// or on whether it matched). Chunked OHTTP (draft-ietf-ohai-chunked-ohttp)
// is not implemented: Apple's relay and devices use RFC 9458 messages,
// and a PIR answer is one ciphertext bundle that is useless until whole.
package ohttp
