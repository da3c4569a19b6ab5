package oprf_test

import (
	"crypto/rand"
	"fmt"
	"log"

	"github.com/blindlist/blindlist/pir/oprf"
)

// Example runs Apple's symmetric-PIR flow for one row: the database owner
// transforms the row offline, the client obtains the keyword's output through
// one blinded evaluation, finds the row by its oblivious keyword, and
// decrypts the value.
func Example() {
	key, err := oprf.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}

	// Offline: the row stored in the PIR database.
	storedKeyword, storedValue, err := key.ProcessRow([]byte("blocked.example"), []byte{1})
	if err != nil {
		log.Fatal(err)
	}

	// Client: blind with the public key from the PIR config.
	pub, err := oprf.ParsePublicKey(key.PublicKey())
	if err != nil {
		log.Fatal(err)
	}
	query, err := pub.Blind([]byte("blocked.example"), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}

	// Server: answer the OPRFRequest.
	evaluated, proof, err := key.Evaluate(query.Element(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}

	// Client: verify, then look up and decrypt.
	out, err := pub.Finalize(query, evaluated, proof)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out.ObliviousKeyword()) == string(storedKeyword))
	value, err := out.Decrypt(storedValue)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(query.Element()), len(evaluated), len(proof), len(storedKeyword), value)
	// Output:
	// true
	// 49 49 96 16 [1]
}
