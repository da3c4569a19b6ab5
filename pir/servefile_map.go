package pir

import (
	"encoding/binary"
	"unsafe"
)

// residues32 returns the little-endian uint32 residues in b. On a
// little-endian CPU, with b 4-byte aligned (a serve-ready file's plaintext
// area always is), it is a view of b itself, so a memory-mapped file is read
// in place; otherwise a decoded copy.
func residues32(b []byte) []uint32 {
	if nativeLittleEndian() && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%4 == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
	}
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

// residues64 is residues32 for 8-byte residues.
func residues64(b []byte) []uint64 {
	if nativeLittleEndian() && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8 == 0 {
		return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
	}
	out := make([]uint64, len(b)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out
}

// nativeLittleEndian reports whether the CPU stores integers little end
// first, the serve-ready file's byte order.
func nativeLittleEndian() bool {
	return binary.NativeEndian.Uint16([]byte{1, 0}) == 1
}
