// Package privacypass is the Privacy Pass issuer and redeemer of blindlist:
// RFC 9578 token type 2 (publicly verifiable, Blind RSA 2048,
// RSABSSA-SHA384-PSS-Deterministic of RFC 9474) with the PrivateToken HTTP
// scheme of RFC 9577, byte for byte as Apple's example PIR service does it
// (pir-spec §8.3, client-spec §6; Apple's pir-service-example
// Sources/PrivacyPass and Controllers/PrivacyPassController.swift).
//
// # Where to start
//
// Load or make issuer keys with [ParsePrivateKeyPEM] or [GenerateKey], put
// them in a [Keyring] (one or more keys per user tier), and build a
// [Service] with the user-token allow-list and a spent-token store from
// internal/store. Mount [Service.Handler] for the three issuer endpoints and
// wrap the PIR endpoints in [Service.Middleware]. [StatusFor] maps every
// error to Apple's status code.
//
// The wire formats are [TokenRequest], [Token] and [TokenChallenge]; the
// token key is served as the SubjectPublicKeyInfo of [PublicKey.SPKI], with
// the id-RSASSA-PSS OID and explicit SHA-384 / MGF1-SHA-384 / salt-48
// parameters (crypto/x509 cannot write that form, so it is encoded here),
// and the token key id is its SHA-256. [MarshalDirectory] writes the issuer
// directory exactly as Apple's service. [NewTokenRequest] and
// [PendingToken.Finalize] are a client for tests and tools.
//
// # Differences from Apple's example
//
// Apple's example keeps everything in memory and regenerates keys at every
// start. Here issuer keys are files the operator keeps, keys rotate with an
// overlap ([KeySpec]), and spent nonces live in bbolt or Redis so a restart
// or a second replica does not accept a token twice. A token is recorded as
// spent only after its signature verifies, in one atomic step, where Apple's
// checks and then stores (a race). A token is looked up by its full key id,
// not its last byte.
//
// # Security considerations
//
// Signing. The RSA private operation runs in internal/ctrsa, our own
// constant-time code: CRT with Montgomery multiplication on fixed-length
// words, every exponent bit processed in fixed 4-bit windows, table entries
// read by masked scans, no branch or memory index depends on the key or the
// message. We did not use circl's blindrsa.Signer: it computes m^d mod n with
// math/big (no CRT, so about 3x slower; math/big is variable time and its
// window table is indexed by exponent bits) and relies on base blinding,
// which does not hide the exponent's cache footprint. Go's crypto/rsa has a
// constant-time private operation, but only behind padding checks (PKCS #1
// v1.5, OAEP), never as the raw m^d a blind signature needs. Every signature
// is checked (s^e mod n == m) before it leaves, so a computation fault cannot
// reveal a prime (Boneh, DeMillo, Lipton 1997). Key loading converts the CRT
// values from math/big once; the range check m < n is on public data.
//
// Verification (public data only) uses circl's RFC 9474 verifier, cross-checked
// against crypto/rsa.VerifyPSS in the tests.
//
// Double spending. Redeemed tokens are recorded under key id || nonce in a
// store.SpentSet; its TTL must exceed the time any key stays accepted, or
// a token could be replayed after its record expires. Retire keys
// (KeySpec.NotAfter) within that TTL. A store that loses its data (Redis
// after FLUSHALL or a failover to an empty node) is detected by an epoch
// record checked atomically with each spend (store.EpochSpentSet); we then
// void every key that started before the loss rather than refuse all
// redemption until an operator acts: see [Service.Verify].
//
// Privacy. Nothing logs tokens, user tokens, keys or addresses; user tokens
// are kept only as SHA-256 digests and looked up by digest. The challenge
// digest is not checked (the device builds the challenge itself), as in
// Apple's service. Bodies are capped at the request size.
package privacypass
