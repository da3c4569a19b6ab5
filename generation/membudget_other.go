//go:build !linux

package generation

// physicalMemory returns 0: unknown here, so DefaultMemoryBudget uses its
// floor.
func physicalMemory() uint64 { return 0 }
