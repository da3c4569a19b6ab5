package pb_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir/pb"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

func TestMarshalFieldOrder(t *testing.T) {
	tests := []struct {
		name string
		msg  proto.Message
		want string // hex
	}{
		{
			// oneof field 1 must precede config_id = 3 (protobuf-go puts it last).
			name: "config oneof before config_id",
			msg: &apipb.Config{
				Config:   &apipb.Config_PirConfig{PirConfig: &apipb.PIRConfig{BatchSize: 2}},
				ConfigId: []byte{0xaa},
			},
			want: "0a022802" + "1a01aa",
		},
		{
			// map entries sorted numerically by key: 3 < 300.
			name: "galois key map sorted",
			msg: &hepb.SerializedGaloisKey{KeySwitchKeys: map[uint64]*hepb.SerializedKeySwitchKey{
				300: {}, 3: {},
			}},
			want: "0a04" + "0803" + "1200" + "0a05" + "08ac02" + "1200",
		},
		{
			name: "empty message",
			msg:  &hepb.EncryptionParameters{},
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pb.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if h := hex.EncodeToString(got); h != tt.want {
				t.Errorf("got %s, want %s", h, tt.want)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	// Entries 300 then 3, and an unknown field 9 before the map: canonical
	// form puts the known map field first, sorted, and the unknown field last.
	in, _ := hex.DecodeString("4801" + "0a03" + "08ac02" + "0a02" + "0803")
	want, _ := hex.DecodeString("0a02" + "0803" + "0a03" + "08ac02" + "4801")
	got, err := pb.Canonical(in, (&hepb.SerializedGaloisKey{}).ProtoReflect().Descriptor())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
	if _, err := pb.Canonical([]byte{0x0a, 0x05, 0x01}, (&hepb.SerializedGaloisKey{}).ProtoReflect().Descriptor()); err == nil {
		t.Errorf("truncated input: got no error")
	}
}
