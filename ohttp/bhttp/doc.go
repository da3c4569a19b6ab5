// Package bhttp encodes and decodes binary HTTP messages, RFC 9292
// ("Binary Representation of HTTP Messages", media type message/bhttp).
//
// Start with [ParseRequest] (or [Request.UnmarshalBinary]) and
// [ParseResponse] to decode, and
// [Request.AppendBinary] and [Response.AppendBinary] to encode. Both framings
// are supported in both directions: known-length (framing indicators 0 and 1,
// RFC 9292 §3.1) and indeterminate-length (2 and 3, §3.2), including
// informational (1xx) responses (§3.5.1), trailers, truncation of empty
// trailing sections and zero padding (§3.8). Apple's swift-nio-oblivious-http
// serializer emits the indeterminate form with capitalised field names, so the
// decoder accepts both forms and both cases.
//
// # Bounds
//
// The decoder never panics and never allocates from a length it has not
// checked: every length prefix is compared with the bytes that remain before
// it is used, field lines are capped at [MaxFieldLines] per message and
// informational responses at [MaxInformational]. Allocation is therefore
// linear in the input, and small: the strings of a message's control data
// and header fields share one allocation, its trailer fields another, and
// [Request.UnmarshalBinary] decodes into a Request the caller reuses.
// Known-length content and single-chunk
// indeterminate content alias the input slice; callers that keep a message
// after reusing its input must copy Content.
//
// # Validation
//
// Invalid messages (RFC 9292 §4) are rejected with an error wrapping
// [ErrInvalid]: unknown framing indicators, lengths beyond the input, status
// codes outside 100..599, empty field names, field names or values with bytes
// RFC 9113 §8.2.1 forbids (except that upper-case letters in names are
// accepted, see above), pseudo-fields (names beginning with ':'), which this
// package cannot represent, and non-zero padding.
//
// This package does not convert to or from net/http; package ohttp does.
package bhttp
