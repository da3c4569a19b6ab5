//go:build !race

package ohttp

const raceEnabled = false
