package bhttp_test

import (
	"fmt"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

func Example() {
	req := &bhttp.Request{
		Method: "GET", Scheme: "https", Authority: "example.com", Path: "/",
		Indeterminate: true, // the framing Apple's client uses
	}
	b, err := req.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", b)

	got, err := bhttp.ParseRequest(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Method, got.Scheme+"://"+got.Authority+got.Path)
	// Output:
	// 02034745540568747470730b6578616d706c652e636f6d012f000000
	// GET https://example.com/
}
