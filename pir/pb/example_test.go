package pb_test

import (
	"crypto/sha256"
	"fmt"

	"google.golang.org/protobuf/encoding/prototext"

	"github.com/blindlist/blindlist/pir/pb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// Computing evaluation_key_config_hash as Apple's service does: SHA-256 of the
// serialized EvaluationKeyConfig. The text is pir/A/evaluation_key_config.txtpb
// from shared/vectors; the digest is the one in pir/A/expected.json.
func Example() {
	const text = `
encryption_parameters {
  polynomial_degree: 4096
  plaintext_modulus: 17
  coefficient_moduli: [134176769, 268369921, 268361729]
  security_level: SECURITY_LEVEL_QUANTUM128
  he_scheme: HE_SCHEME_BFV
}
galois_elements: [1025, 2049, 4097]
has_relin_key: true`
	var cfg hepb.EvaluationKeyConfig
	if err := prototext.Unmarshal([]byte(text), &cfg); err != nil {
		fmt.Println(err)
		return
	}
	b, err := pb.Marshal(&cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%x\n", sha256.Sum256(b))
	// Output:
	// 4f4f1057d4a5151da940a1366fbce278e0b44429e7d395dd45ba023aaca85230
}
