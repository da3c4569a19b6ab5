// Package drbg is the NIST SP 800-90A CTR_DRBG (AES-128, no derivation
// function) that Apple's swift-homomorphic-encryption uses to expand 32-byte
// seeds, buffered exactly as Apple's BufferedRng.
//
// Start with [New] and read the stream with [Reader.Read]. The stream is
// Generate(4096) || Generate(4096) || …, each Generate followed by the
// Update that re-keys the DRBG (shared/spec/he-spec.md §7.1, §7.2; Apple's
// Sources/HomomorphicEncryption/Random/NistCtrDrbg.swift, NistAes128Ctr.swift,
// BufferedRng.swift). That chunking is part of the format: a single long CTR
// keystream matches only the first 4096 bytes.
//
// What it does not do: no personalization string, no additional input, no
// reseeding (Apple's reseed interval, 2^48 requests, is never reached: that
// would be 2^60 bytes), no prediction resistance. It is a deterministic
// expander for seeds that are themselves uniformly random (Apple draws them
// from the system generator); it is not a general-purpose entropy source.
//
// Security considerations: the output is as secret as the seed. AES comes from
// crypto/aes, which is constant time on platforms with AES instructions; the
// code here has no seed- or output-dependent branches or table indices.
package drbg

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
)

// SeedSize is the seed length in bytes (32): the AES-128 key length plus the
// block length, the seedlen of CTR_DRBG without derivation function.
const SeedSize = 32

const (
	// keySize is the AES-128 key length.
	keySize = 16
	// blockSize is the AES block length; V is one block.
	blockSize = aes.BlockSize
	// chunkSize is the byte count of each Generate call behind a [Reader]:
	// Apple's NistAes128Ctr is BufferedRng(bufferCount: 4096).
	chunkSize = 4096
	// maxGenerateBytes is SP 800-90A's max_number_of_bits_per_request for
	// AES-128 as Apple sets it (2^16 bytes).
	maxGenerateBytes = 1 << 16
)

// ErrSeedSize is returned by [New] when the seed is not [SeedSize] bytes.
var ErrSeedSize = errors.New("drbg: seed must be 32 bytes")

// state is the CTR_DRBG working state (SP 800-90A §10.2.1.1): the key K and
// the counter V, an unsigned 128-bit integer (vHi, vLo) whose big-endian
// bytes are the AES input block.
type state struct {
	block    cipher.Block // AES-128 keyed with key
	key      [keySize]byte
	vHi, vLo uint64
}

// counterBlock writes the big-endian bytes of V + k (mod 2^128) to dst.
func (s *state) counterBlock(dst []byte, k uint64) {
	lo := s.vLo + k
	hi := s.vHi
	if lo < s.vLo {
		hi++
	}
	binary.BigEndian.PutUint64(dst[0:8], hi)
	binary.BigEndian.PutUint64(dst[8:16], lo)
}

// advance adds k to V modulo 2^128.
func (s *state) advance(k uint64) {
	lo := s.vLo + k
	if lo < s.vLo {
		s.vHi++
	}
	s.vLo = lo
}

// setKey installs a new K and the AES key schedule for it.
func (s *state) setKey(k []byte) {
	copy(s.key[:], k)
	b, err := aes.NewCipher(s.key[:])
	if err != nil {
		panic("drbg: internal error: " + err.Error()) // a 16-byte key is always valid
	}
	s.block = b
}

// update is CTR_DRBG_Update (SP 800-90A §10.2.1.2) with seedlen = 256 bits:
// T = AES_K(V+1) || AES_K(V+2), T ^= data, K = T[0:16], V = T[16:32].
func (s *state) update(data *[SeedSize]byte) {
	var t [SeedSize]byte
	s.counterBlock(t[0:16], 1)
	s.counterBlock(t[16:32], 2)
	s.block.Encrypt(t[0:16], t[0:16])
	s.block.Encrypt(t[16:32], t[16:32])
	for i := range t {
		t[i] ^= data[i]
	}
	s.setKey(t[:keySize])
	s.vHi = binary.BigEndian.Uint64(t[16:24])
	s.vLo = binary.BigEndian.Uint64(t[24:32])
}

// instantiate is CTR_DRBG_Instantiate without derivation function
// (SP 800-90A §10.2.1.3.1) with an empty personalization string:
// K = 0^128, V = 0, Update(seed).
func (s *state) instantiate(seed *[SeedSize]byte) {
	s.setKey(make([]byte, keySize))
	s.vHi, s.vLo = 0, 0
	s.update(seed)
}

// generate is CTR_DRBG_Generate without additional input
// (SP 800-90A §10.2.1.5.1): out = leftmost len(out) bytes of
// AES_K(V+1) || AES_K(V+2) || …, V += ceil(len(out)/16), then Update(0^256).
// The keystream is a big-endian 128-bit counter, which is exactly what
// cipher.NewCTR computes from the initial block V+1.
func (s *state) generate(out []byte) {
	if len(out) > maxGenerateBytes {
		panic("drbg: internal error: generate request over 2^16 bytes")
	}
	var iv [blockSize]byte
	s.counterBlock(iv[:], 1)
	clear(out)
	cipher.NewCTR(s.block, iv[:]).XORKeyStream(out, out)
	s.advance(uint64((len(out) + blockSize - 1) / blockSize))
	var zero [SeedSize]byte
	s.update(&zero)
}

// Reader is the pseudo-random byte stream of one seed: CTR_DRBG output
// consumed through a 4096-byte buffer refilled by one Generate(4096) call at a
// time, as Apple's NistAes128Ctr. A Reader is not safe for concurrent use.
type Reader struct {
	drbg state
	buf  [chunkSize]byte
	off  int // next unused byte of buf; chunkSize when buf is used up
}

// New returns a CTR_DRBG instantiated from a 32-byte seed, buffered exactly
// as Apple's BufferedRng. The seed is the entropy input as is. It returns
// [ErrSeedSize] (wrapped) for a seed of any other length.
func New(seed []byte) (*Reader, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("%w, got %d", ErrSeedSize, len(seed))
	}
	r := &Reader{off: chunkSize}
	r.drbg.instantiate((*[SeedSize]byte)(seed))
	return r, nil
}

// Read fills p with the next pseudo-random bytes of the stream. It always
// returns len(p), nil: reads of any sizes, in any split, return the same
// sequence of bytes.
func (r *Reader) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if r.off == chunkSize {
			r.drbg.generate(r.buf[:])
			r.off = 0
		}
		c := copy(p, r.buf[r.off:])
		r.off += c
		p = p[c:]
	}
	return n, nil
}
