package modq_test

import (
	"fmt"

	"github.com/blindlist/blindlist/pir/he/modq"
)

func ExampleModulus_Mul() {
	m := modq.MustNew(134176769)
	inv, _ := m.Inv(3)
	fmt.Println(m.Mul(3, inv), m.Sub(1, 2))
	// Output: 1 134176768
}
