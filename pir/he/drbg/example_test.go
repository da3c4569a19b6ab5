package drbg_test

import (
	"encoding/hex"
	"fmt"

	"github.com/blindlist/blindlist/pir/he/drbg"
)

// Expanding a seed as Apple does for the second polynomial of a seeded
// ciphertext: the stream is deterministic in the seed.
func Example() {
	seed := make([]byte, drbg.SeedSize) // in practice: the 32-byte seed from a SerializedSeededCiphertext
	r, err := drbg.New(seed)
	if err != nil {
		fmt.Println(err)
		return
	}
	first := make([]byte, 16) // one little-endian uint128, reduced mod q by the caller
	r.Read(first)
	fmt.Println(hex.EncodeToString(first))
	// Output:
	// d40e25d386f068ba00cd8671f3478932
}
